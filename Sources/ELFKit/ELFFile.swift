import Foundation

/// The dynamic-linking facts of an ELF64 little-endian x86-64 file: what it needs at run time, where it
/// looks for it, and which symbol versions it asks of each library.
///
/// Only the program headers and the dynamic section are read (as the dynamic loader sees the file); section
/// headers, which `strip` may remove, are not needed. Every offset is checked against the file's size, so a
/// damaged or hostile file gives `ELFError`, never a crash.
public struct ELFFile: Sendable {
    /// `e_type`.
    public enum Kind: UInt16, Sendable {
        case executable = 2
        case sharedObject = 3
    }

    /// A byte range of the file holding a NUL-terminated string of the dynamic string table.
    public struct StringLocation: Sendable, Equatable {
        public var offset: Int
        /// The string's length without its NUL.
        public var length: Int
    }

    /// One `DT_VERNEED` record: the versions asked of one library (`GLIBC_2.34`, ...).
    public struct VersionNeed: Sendable, Equatable {
        public var library: String
        public var versions: [String]
    }

    public let path: String
    public let kind: Kind
    /// `PT_INTERP`: the dynamic loader an executable names (`/lib64/ld-linux-x86-64.so.2`).
    public let interpreter: String?
    /// `DT_SONAME`.
    public let soname: String?
    /// `DT_NEEDED`, in order.
    public let needed: [String]
    /// `DT_RUNPATH` split at `:`, or `DT_RPATH` when there is no runpath (the loader's rule).
    public let searchPath: [String]
    /// Where the `DT_RUNPATH` (else `DT_RPATH`) string lies in the file, for an in-place rewrite.
    public let searchPathLocation: StringLocation?
    /// File offset of the tag of the dynamic entry that holds the search path.
    let searchPathTagOffset: Int?
    /// Both `DT_RUNPATH` and `DT_RPATH` are present (the loader then ignores the rpath).
    let hasBothSearchPaths: Bool
    /// `DT_VERNEED`.
    public let versionNeeds: [VersionNeed]
    /// The symbol versions the object defines (`DT_VERDEF`), without its base entry (its own soname):
    /// `GLIBC_2.2.5` ... `GLIBC_2.36` for glibc's `libc.so.6`.
    public let versionDefinitions: [String]

    /// A statically linked executable needs no loader and no libraries.
    public var isDynamic: Bool { interpreter != nil || !needed.isEmpty || kind == .sharedObject }

    /// Reads `path`.
    /// - Throws: `ELFError` naming the file and what is wrong.
    public init(path: String) throws(ELFError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ELFError(path: path, problem: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(path: path, bytes: data)
    }

    /// Parses `bytes` (the whole file) read from `path`.
    public init(path: String, bytes: Data) throws(ELFError) {
        self.path = path
        let reader = Reader(path: path, data: bytes)
        guard bytes.count >= 64, bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) else {
            throw reader.fail("is not an ELF file")
        }
        guard try reader.u8(4) == 2 else { throw reader.fail("is not a 64-bit ELF file") }
        guard try reader.u8(5) == 1 else { throw reader.fail("is not a little-endian ELF file") }
        let machine = try reader.u16(18)
        guard machine == 62 else { throw reader.fail("is for machine \(machine), not x86-64 (62)") }
        let type = try reader.u16(16)
        guard let kind = Kind(rawValue: type) else {
            throw reader.fail("is neither an executable nor a shared object (e_type \(type))")
        }
        self.kind = kind

        let phoff = try reader.offset(try reader.u64(32), "program header table")
        let phentsize = Int(try reader.u16(54))
        let phnum = Int(try reader.u16(56))
        guard phnum == 0 || phentsize >= 56 else { throw reader.fail("has program headers of \(phentsize) bytes") }
        guard phnum <= 4096 else { throw reader.fail("claims \(phnum) program headers") }

        struct Load { var vaddr: UInt64; var offset: UInt64; var fileSize: UInt64 }
        var loads: [Load] = []
        var dynamic: (offset: Int, size: Int)?
        var interpreter: String?
        for index in 0..<phnum {
            let base = phoff + index * phentsize
            let type = try reader.u32(base)
            let offset = try reader.u64(base + 8)
            let vaddr = try reader.u64(base + 16)
            let fileSize = try reader.u64(base + 32)
            switch type {
            case 1: loads.append(Load(vaddr: vaddr, offset: offset, fileSize: fileSize))
            case 2: dynamic = (try reader.offset(offset, "dynamic section"), try reader.length(fileSize, at: offset))
            case 3:
                let start = try reader.offset(offset, "interpreter")
                interpreter = try reader.string(at: start, limit: try reader.length(fileSize, at: offset))
            default: break
            }
        }
        self.interpreter = interpreter

        /// Maps a virtual address (as dynamic entries hold them) to a file offset through the PT_LOAD segments.
        func fileOffset(_ address: UInt64, _ what: String) throws(ELFError) -> Int {
            for load in loads where address >= load.vaddr && address - load.vaddr < load.fileSize {
                return try reader.offset(load.offset + (address - load.vaddr), what)
            }
            throw reader.fail("has its \(what) at address 0x\(String(address, radix: 16)), outside every loaded segment")
        }

        guard let dynamic else {
            soname = nil
            needed = []
            searchPath = []
            searchPathLocation = nil
            searchPathTagOffset = nil
            hasBothSearchPaths = false
            versionNeeds = []
            versionDefinitions = []
            return
        }
        var neededOffsets: [UInt64] = []
        var strtab: UInt64?
        var strsz: UInt64?
        var soname: UInt64?
        var runpath: UInt64?
        var rpath: UInt64?
        var runpathTag: Int?
        var rpathTag: Int?
        var verneed: UInt64?
        var verneedCount: UInt64 = 0
        var verdef: UInt64?
        var verdefCount: UInt64 = 0
        var entry = 0
        while entry + 16 <= dynamic.size {
            let tag = try reader.u64(dynamic.offset + entry)
            let value = try reader.u64(dynamic.offset + entry + 8)
            entry += 16
            switch tag {
            case 0: entry = dynamic.size
            case 1: neededOffsets.append(value)
            case 5: strtab = value
            case 10: strsz = value
            case 14: soname = value
            case 15: rpath = value; rpathTag = dynamic.offset + entry - 16
            case 29: runpath = value; runpathTag = dynamic.offset + entry - 16
            case 0x6fff_fffc: verdef = value
            case 0x6fff_fffd: verdefCount = value
            case 0x6fff_fffe: verneed = value
            case 0x6fff_ffff: verneedCount = value
            default: break
            }
        }
        guard neededOffsets.isEmpty && soname == nil && runpath == nil && rpath == nil && verneed == nil && verdef == nil
            || (strtab != nil && strsz != nil) else {
            throw reader.fail("has dynamic entries but no string table")
        }
        let tableStart = try strtab.map { address throws(ELFError) in try fileOffset(address, "string table") } ?? 0
        let tableSize = Int(clamping: strsz ?? 0)
        func location(_ index: UInt64) throws(ELFError) -> StringLocation {
            guard index < UInt64(tableSize) else { throw reader.fail("names a string outside its string table") }
            let start = tableStart + Int(index)
            let text = try reader.string(at: start, limit: tableSize - Int(index))
            return StringLocation(offset: start, length: text.utf8.count)
        }
        func string(_ index: UInt64) throws(ELFError) -> String {
            let place = try location(index)
            return try reader.string(at: place.offset, limit: place.length + 1)
        }

        var needed: [String] = []
        for offset in neededOffsets { needed.append(try string(offset)) }
        self.needed = needed
        self.soname = try soname.map { index throws(ELFError) in try string(index) }
        let searchIndex = runpath ?? rpath
        searchPathTagOffset = runpathTag ?? rpathTag
        hasBothSearchPaths = runpath != nil && rpath != nil
        searchPathLocation = try searchIndex.map { index throws(ELFError) in try location(index) }
        searchPath = try searchIndex.map { index throws(ELFError) in
            try string(index).split(separator: ":", omittingEmptySubsequences: true).map(String.init)
        } ?? []

        var needs: [VersionNeed] = []
        if let verneed, verneedCount > 0 {
            guard verneedCount <= 4096 else { throw reader.fail("claims \(verneedCount) version needs") }
            var record = try fileOffset(verneed, "version needs")
            for _ in 0..<verneedCount {
                let count = Int(try reader.u16(record + 2))
                let file = try string(UInt64(try reader.u32(record + 4)))
                var aux = record + Int(try reader.u32(record + 8))
                var versions: [String] = []
                for _ in 0..<count {
                    versions.append(try string(UInt64(try reader.u32(aux + 8))))
                    let next = Int(try reader.u32(aux + 12))
                    if next == 0 { break }
                    aux += next
                }
                needs.append(VersionNeed(library: file, versions: versions))
                let next = Int(try reader.u32(record + 12))
                if next == 0 { break }
                record += next
            }
        }
        versionNeeds = needs

        // Elf64_Verdef: vd_version, vd_flags, vd_ndx, vd_cnt (16 bits each), vd_hash, vd_aux, vd_next (32 bits);
        // its first Elf64_Verdaux (vda_name, vda_next) names the version. VER_FLG_BASE (1) marks the file's own.
        var definitions: [String] = []
        if let verdef, verdefCount > 0 {
            guard verdefCount <= 4096 else { throw reader.fail("claims \(verdefCount) version definitions") }
            var record = try fileOffset(verdef, "version definitions")
            for _ in 0..<verdefCount {
                let flags = try reader.u16(record + 2)
                let aux = record + Int(try reader.u32(record + 12))
                if flags & 1 == 0 { definitions.append(try string(UInt64(try reader.u32(aux)))) }
                let next = Int(try reader.u32(record + 16))
                if next == 0 { break }
                record += next
            }
        }
        versionDefinitions = definitions
    }

    /// The newest `GLIBC_x.y` version this object defines (glibc's `libc.so.6`), as `GLIBC_2.36`; `nil` when
    /// it defines none.
    public var newestGlibcDefinition: String? {
        versionDefinitions.compactMap { name in LibraryClosure.glibcVersion(name).map { (name, $0) } }
            .max { $0.1.lexicographicallyPrecedes($1.1) }?.0
    }

    /// Bytes to replace in the file so that the loader searches `newValue` (typically `$ORIGIN`) for this
    /// object and every library it loads: the search path string becomes `newValue` (NUL-padded to the old
    /// length: the string table cannot grow, so the new path must not be longer), and a `DT_RUNPATH` entry
    /// becomes `DT_RPATH`. A runpath serves only the object's own `DT_NEEDED`; an rpath also serves the
    /// libraries below it that have no runpath of their own (libarchive's libxml2, for one), which a private
    /// library directory needs.
    /// - Throws: `ELFError` when the file has no search path or the new one does not fit.
    public func searchPathRewrite(to newValue: String) throws(ELFError) -> [(offset: Int, bytes: [UInt8])] {
        guard let place = searchPathLocation, let tag = searchPathTagOffset else {
            throw ELFError(path: path, problem: "has no DT_RUNPATH or DT_RPATH to rewrite (link it with -rpath '$ORIGIN')")
        }
        guard !hasBothSearchPaths else {
            throw ELFError(path: path, problem: "has both DT_RUNPATH and DT_RPATH; only one can be rewritten")
        }
        let bytes = Array(newValue.utf8)
        guard bytes.count <= place.length, !bytes.contains(0) else {
            throw ELFError(path: path, problem: "has a runpath of \(place.length) bytes, too short for \"\(newValue)\"")
        }
        let rpathTag: [UInt8] = [15, 0, 0, 0, 0, 0, 0, 0]
        return [(tag, rpathTag), (place.offset, bytes + [UInt8](repeating: 0, count: place.length - bytes.count))]
    }
}

/// A file that is not a usable ELF object, named with the reason.
public struct ELFError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Bounds-checked little-endian reads.
private struct Reader {
    let path: String
    let data: Data

    func fail(_ problem: String) -> ELFError { ELFError(path: path, problem: problem) }

    private func bytes(_ offset: Int, _ count: Int) throws(ELFError) -> UInt64 {
        guard offset >= 0, count <= data.count, offset <= data.count - count else {
            throw fail("is cut short (needs bytes \(offset)..<\(offset + count) of \(data.count))")
        }
        var value: UInt64 = 0
        let start = data.startIndex + offset
        for index in 0..<count { value |= UInt64(data[start + index]) << (8 * UInt64(index)) }
        return value
    }

    func u8(_ offset: Int) throws(ELFError) -> UInt8 { UInt8(try bytes(offset, 1)) }
    func u16(_ offset: Int) throws(ELFError) -> UInt16 { UInt16(try bytes(offset, 2)) }
    func u32(_ offset: Int) throws(ELFError) -> UInt32 { UInt32(try bytes(offset, 4)) }
    func u64(_ offset: Int) throws(ELFError) -> UInt64 { try bytes(offset, 8) }

    /// A file offset that must lie inside the file.
    func offset(_ value: UInt64, _ what: String) throws(ELFError) -> Int {
        guard value <= UInt64(data.count) else { throw fail("has its \(what) at offset \(value), past its end (\(data.count) bytes)") }
        return Int(value)
    }

    /// A length starting at `start` that must end inside the file.
    func length(_ value: UInt64, at start: UInt64) throws(ELFError) -> Int {
        guard start <= UInt64(data.count), value <= UInt64(data.count) - start else {
            throw fail("has a segment at \(start) of \(value) bytes, past its end (\(data.count) bytes)")
        }
        return Int(value)
    }

    /// A NUL-terminated string starting at `start`, at most `limit` bytes including its NUL.
    func string(at start: Int, limit: Int) throws(ELFError) -> String {
        guard start >= 0, start <= data.count else { throw fail("names a string past its end") }
        let end = min(data.count, start + max(0, limit))
        let base = data.startIndex
        guard let nul = data[(base + start)..<(base + end)].firstIndex(of: 0) else {
            throw fail("has an unterminated string at offset \(start)")
        }
        return String(decoding: data[(base + start)..<nul], as: UTF8.self)
    }
}

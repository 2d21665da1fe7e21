import CISOFS
import Glibc

extension ISOImage {
    /// Every node below the root, depth first, children in libisofs's (name) order.
    public func entries() throws(ISOError) -> [ISOEntry] {
        var result: [ISOEntry] = []
        try walk(iso_image_get_root(handle), path: "", into: &result)
        return result
    }

    /// The node at `path`, or `nil` when there is none.
    /// - Throws: `ISOError` for an invalid path.
    public func entry(at path: String) throws(ISOError) -> ISOEntry? {
        guard let node = try node(at: path) else { return nil }
        let components = try Self.components(of: path)
        return describe(node, path: "/" + components.joined(separator: "/"))
    }

    /// Where the data of the regular file at `path` sits in the image this was read from: one
    /// `(offset, size)` in bytes per extent (one for files under 4 GiB). For an image read with
    /// `init(reading:)` only.
    /// - Throws: `ISOError` (`.findNode`) when there is no such file or it was not read from an image.
    public func extents(of path: String) throws(ISOError) -> [(offset: UInt64, size: UInt64)] {
        guard let node = try node(at: path), iso_node_get_type(node) == LIBISO_FILE else {
            throw ISOError(operation: .findNode, path: path, message: "no such file in the image")
        }
        var count: Int32 = 0
        var sections: UnsafeMutablePointer<iso_file_section>?
        let rc = iso_file_get_old_image_sections(node, &count, &sections, 0)
        defer { free(sections) }
        guard rc == 1, let sections else {
            throw ISOError(operation: .findNode, path: path, message: "the file was not read from an image")
        }
        return (0 ..< Int(count)).map { (UInt64(sections[$0].block) * 2048, UInt64(sections[$0].size)) }
    }

    /// The whole contents of the regular file at `path`.
    /// - Throws: `ISOError` (`.readFile`) when there is no such file or its data cannot be read.
    public func contents(of path: String) throws(ISOError) -> [UInt8] {
        var bytes: [UInt8] = []
        try stream(path, chunkSize: 1 << 20) { chunk in
            bytes.append(contentsOf: chunk)
            return true
        }
        return bytes
    }

    /// Streams the regular file at `path` to `consume` in chunks of at most `chunkSize` bytes.
    /// - Throws: `ISOError` (`.readFile`) when there is no such file or its data cannot be read, or
    ///   what `consume` throws (reading stops there).
    public func readFile(_ path: String, chunkSize: Int = 1 << 20,
                         _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var consumerError: (any Error)?
        try stream(path, chunkSize: chunkSize) { chunk in
            do {
                try consume(chunk)
                return true
            } catch {
                consumerError = error
                return false
            }
        }
        if let consumerError { throw consumerError }
    }

    private func stream(_ path: String, chunkSize: Int,
                        _ consume: (UnsafeRawBufferPointer) -> Bool) throws(ISOError) {
        guard let node = try node(at: path) else {
            throw ISOError(operation: .readFile, path: path, message: "no such file in the image")
        }
        guard iso_node_get_type(node) == LIBISO_FILE, let stream = iso_file_get_stream(node) else {
            throw ISOError(operation: .readFile, path: path, message: "not a regular file")
        }
        var rc = iso_stream_open(stream)
        guard rc >= 0 else {
            throw .library(.readFile, path: path, code: rc, details: ISOLibrary.messages(for: messageID))
        }
        defer { iso_stream_close(stream) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunkSize, 2048), alignment: 16)
        defer { buffer.deallocate() }
        while true {
            rc = iso_stream_read(stream, buffer.baseAddress, buffer.count)
            if rc == 0 { return }
            guard rc > 0 else {
                throw .library(.readFile, path: path, code: rc, details: ISOLibrary.messages(for: messageID))
            }
            guard consume(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(rc)])) else { return }
        }
    }

    private func walk(_ directory: OpaquePointer, path: String, into result: inout [ISOEntry]) throws(ISOError) {
        var iterator: OpaquePointer?
        let rc = iso_dir_get_children(directory, &iterator)
        guard rc >= 0, let iterator else { throw .library(.findNode, path: path.isEmpty ? "/" : path, code: rc) }
        defer { iso_dir_iter_free(iterator) }
        var child: OpaquePointer?
        while iso_dir_iter_next(iterator, &child) == 1, let node = child {
            let name = iso_node_get_name(node).map { String(cString: $0) } ?? ""
            let childPath = path + "/" + name
            result.append(describe(node, path: childPath))
            if iso_node_get_type(node) == LIBISO_DIR {
                try walk(node, path: childPath, into: &result)
            }
        }
    }

    private func describe(_ node: OpaquePointer, path: String) -> ISOEntry {
        let kind: ISOEntry.Kind
        var size: UInt64 = 0
        switch iso_node_get_type(node) {
        case LIBISO_DIR:
            kind = .directory
        case LIBISO_FILE:
            kind = .file
            size = UInt64(max(0, iso_file_get_size(node)))
        case LIBISO_SYMLINK:
            kind = .symlink(target: iso_symlink_get_dest(node).map { String(cString: $0) } ?? "")
        case LIBISO_BOOT:
            kind = .bootCatalog
        default:
            kind = .special
        }
        return ISOEntry(path: path.isEmpty ? "/" : path, kind: kind, size: size,
                        mode: UInt32(iso_node_get_mode(node)),
                        uid: UInt32(iso_node_get_uid(node)), gid: UInt32(iso_node_get_gid(node)),
                        modificationTime: Int64(iso_node_get_mtime(node)))
    }
}

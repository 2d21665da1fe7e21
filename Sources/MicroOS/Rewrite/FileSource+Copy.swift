import ArchiveKit
import Foundation

extension EditRequest.FileSource {
    /// Streams the bytes into the current entry of `writer`; a host file must still have the size it had
    /// when the plan was made.
    func copy(into writer: ArchiveWriter, buffer: UnsafeMutableRawBufferPointer) throws {
        switch self {
        case .inline(let bytes):
            try bytes.withUnsafeBytes { try writer.write($0) }
        case .hostFile(let path, let size):
            try Self.copy(path, size: size, patches: [], into: writer, buffer: buffer)
        case .patchedHostFile(let path, let size, let patches):
            try Self.copy(path, size: size, patches: patches, into: writer, buffer: buffer)
        }
    }

    private static func copy(_ path: String, size: Int64, patches: [BytePatch], into writer: ArchiveWriter,
                         buffer: UnsafeMutableRawBufferPointer) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EditPlanError.hostFile(path: path, message: "cannot open")
        }
        defer { try? handle.close() }
        var copied: Int64 = 0
        while true {
            let chunk = try handle.read(upToCount: buffer.count) ?? Data()
            if chunk.isEmpty { break }
            guard copied + Int64(chunk.count) <= size else { break }
            if patches.isEmpty {
                try chunk.withUnsafeBytes { try writer.write($0) }
            } else {
                var bytes = [UInt8](chunk)
                for patch in patches { patch.apply(to: &bytes, start: copied) }
                try bytes.withUnsafeBytes { try writer.write($0) }
            }
            copied += Int64(chunk.count)
        }
        guard copied == size else {
            throw EditPlanError.hostFile(path: path, message: "changed size while the µOS was written (planned \(size) bytes)")
        }
    }
}

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
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw EditPlanError.hostFile(path: path, message: "cannot open")
            }
            defer { try? handle.close() }
            var copied: Int64 = 0
            while true {
                let chunk = try handle.read(upToCount: buffer.count) ?? Data()
                if chunk.isEmpty { break }
                guard copied + Int64(chunk.count) <= size else { break }
                try chunk.withUnsafeBytes { try writer.write($0) }
                copied += Int64(chunk.count)
            }
            guard copied == size else {
                throw EditPlanError.hostFile(path: path, message: "changed size while the µOS was written (planned \(size) bytes)")
            }
        }
    }
}

import PackageKit
import Testing

/// Reads the damaged package at `path` with `read` (metadata, and the payload when it asks for it) and returns
/// the error it gives, checking that the error names the file. Records an issue when nothing fails.
func namedError(reading path: String, _ read: () throws(PackageError) -> Void) -> PackageError {
    do throws(PackageError) {
        try read()
    } catch {
        #expect(error.path == path)
        #expect(error.description.hasPrefix(path + ": "))
        return error
    }
    Issue.record("the damaged package was read without an error")
    return .corrupt(path: path, reason: "no error")
}

/// Reads every payload entry's data to its end.
func drain(_ reader: PackagePayloadReader) throws(PackageError) {
    while try reader.next() != nil { _ = try reader.readAll() }
}

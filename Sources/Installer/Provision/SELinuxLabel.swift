import Glibc

/// The SELinux label (`security.selinux` extended attribute) of the target's files. A replaced file keeps
/// its label (a new inode would have none, and an unlabeled `/etc/shadow` locks logins out under an
/// enforcing policy). The xattr calls are not in Swift's Glibc module, so they are looked up at run time.
enum SELinuxLabel {
    static let attribute = "security.selinux"

    private typealias GetAttribute = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                                     UnsafeMutableRawPointer?, Int) -> Int
    private typealias SetAttribute = @convention(c) (Int32, UnsafePointer<CChar>?, UnsafeRawPointer?, Int, Int32) -> Int32

    private static func function<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: type)
    }

    /// The label of the file at host path `path` (not following a link); `nil` when it has none.
    static func read(_ path: String) -> [UInt8]? {
        guard let get = function("lgetxattr", as: GetAttribute.self) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { get(path, attribute, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return Array(buffer[0 ..< count])
    }

    /// Sets the label of an open file. Best effort: returns whether it worked.
    @discardableResult
    static func set(_ label: [UInt8], on descriptor: Int32) -> Bool {
        guard let set = function("fsetxattr", as: SetAttribute.self) else { return false }
        return label.withUnsafeBytes { set(descriptor, attribute, $0.baseAddress, $0.count, 0) } == 0
    }
}

import CISOFS
import Glibc

/// An ISO 9660 image tree held by libisofs: built from nodes, or read from an existing image, then
/// inspected or written.
///
/// Paths inside the image are absolute ("/boot/grub/grub.cfg"). Not thread-safe: use one image per task.
public final class ISOImage {
    let handle: OpaquePointer
    /// libisofs's id for this image's messages.
    let messageID: Int32
    /// The image file this tree was read from, `nil` for a new image.
    public let sourcePath: String?
    /// The extensions found when the image was read, `nil` for a new image.
    public let features: ISOFeatures?
    /// Attributes given to every node this image creates (directories, in-memory files, symlinks,
    /// and the root), before the per-call attributes. Host files keep their own unless overridden.
    public var defaultAttributes: NodeAttributes

    /// Starts an empty image whose root directory is mode 0755, owned by 0:0.
    /// - Parameters:
    ///   - volumeID: the volume id (up to 32 characters; GRUB and udev find media by it).
    ///   - timestamp: seconds since the epoch for every node created by this image (`nil`: now).
    /// - Throws: `ISOError` (`.createImage`).
    public init(volumeID: String, publisher: String? = nil, applicationID: String? = nil,
                timestamp: Int64? = nil) throws(ISOError) {
        try ISOLibrary.ensureInitialised()
        var created: OpaquePointer?
        let rc = iso_image_new(volumeID, &created)
        guard rc >= 0, let image = created else { throw .library(.createImage, path: volumeID, code: rc) }
        handle = image
        messageID = iso_image_get_msg_id(image)
        sourcePath = nil
        features = nil
        defaultAttributes = NodeAttributes(uid: 0, gid: 0, timestamp: timestamp)
        iso_image_set_volume_id(image, volumeID)
        if let publisher { iso_image_set_publisher_id(image, publisher) }
        if let applicationID { iso_image_set_application_id(image, applicationID) }
        // Symlinks stay symlinks when host trees are added (usrmerged roots depend on it).
        iso_tree_set_follow_symlinks(image, 0)
        Self.apply(defaultAttributes.overridden(by: NodeAttributes(permissions: 0o755)), to: iso_image_get_root(image))
    }

    /// Reads the image file at `path` (its last session): the tree, volume id and extensions.
    /// File contents stay in the file and are read on demand.
    /// - Throws: `ISOError` (`.importImage`) when the file cannot be opened or is not an ISO image, or when its
    ///   directory records loop, share an extent, point outside the file, or are damaged in a way libisofs would
    ///   follow for ever or give up on leaking memory (naming the directory; see `ISODirectoryCheck`).
    public init(reading path: String) throws(ISOError) {
        try ISOLibrary.ensureInitialised()
        guard access(path, R_OK) == 0 else { throw .system(.importImage, path: path, what: "cannot open") }
        // libisofs recurses through whatever the directory records say: a loop would never end. The check reads
        // the trees as libisofs does ("." sizes, PX modes, every descriptor to the terminator) before it imports.
        try ISODirectoryCheck.check(path: path)
        var created: OpaquePointer?
        var rc = iso_image_new(nil, &created)
        guard rc >= 0, let image = created else { throw .library(.importImage, path: path, code: rc) }
        let id = iso_image_get_msg_id(image)
        var source: UnsafeMutablePointer<IsoDataSource>?
        var readOptions: OpaquePointer?
        var found: OpaquePointer?
        defer {
            if let found { iso_read_image_features_destroy(found) }
            if let readOptions { iso_read_opts_free(readOptions) }
            if let source { iso_data_source_unref(source) }
        }
        do throws(ISOError) {
            rc = iso_data_source_new_from_file(path, &source)
            guard rc >= 0, let source else { throw .library(.importImage, path: path, code: rc) }
            rc = iso_read_opts_new(&readOptions, 0)
            guard rc >= 0, let readOptions else { throw .library(.importImage, path: path, code: rc) }
            // Keep the first 32 KiB, so systemAreaReport() can describe MBR, GPT and partition offset.
            rc = iso_read_opts_load_system_area(readOptions, 1)
            guard rc >= 0 else { throw .library(.importImage, path: path, code: rc) }
            rc = iso_image_import(image, source, readOptions, &found)
            guard rc >= 0 else {
                throw .library(.importImage, path: path, code: rc, details: ISOLibrary.messages(for: id))
            }
        } catch {
            iso_image_unref(image)
            ISOLibrary.forgetMessages(for: id)
            throw error
        }
        handle = image
        messageID = id
        sourcePath = path
        features = found.map {
            ISOFeatures(rockRidge: iso_read_image_features_has_rockridge($0) != 0,
                        joliet: iso_read_image_features_has_joliet($0) != 0,
                        iso1999: iso_read_image_features_has_iso1999($0) != 0,
                        elTorito: iso_read_image_features_has_eltorito($0) != 0,
                        blocks: iso_read_image_features_get_size($0))
        }
        defaultAttributes = NodeAttributes()
    }

    deinit {
        iso_image_unref(handle)
        ISOLibrary.forgetMessages(for: messageID)
    }

    /// The volume id.
    public var volumeID: String { iso_image_get_volume_id(handle).map { String(cString: $0) } ?? "" }
    /// The publisher id.
    public var publisher: String { iso_image_get_publisher_id(handle).map { String(cString: $0) } ?? "" }
    /// The application id.
    public var applicationID: String { iso_image_get_application_id(handle).map { String(cString: $0) } ?? "" }

    // MARK: Building

    /// Adds directory `path`, creating missing parents. An existing directory only gets `attributes`.
    /// - Throws: `ISOError` (`.addNode`) when a non-directory is in the way or the name is invalid.
    public func addDirectory(_ path: String, attributes: NodeAttributes? = nil) throws(ISOError) {
        let node = try directory(at: path, creating: true)
        if let attributes { Self.apply(attributes, to: node) }
    }

    /// Adds a regular file holding `contents` (copied), creating missing parents. Mode 0444 unless
    /// `attributes` say otherwise.
    /// - Throws: `ISOError` (`.addNode`) when the name exists or is invalid.
    public func addFile(_ path: String, contents: some Collection<UInt8>, attributes: NodeAttributes? = nil) throws(ISOError) {
        let (parent, name) = try parentAndName(of: path)
        let size = contents.count
        // The memory stream owns and free()s its buffer, so it must come from malloc.
        guard let buffer = malloc(max(size, 1))?.assumingMemoryBound(to: UInt8.self) else {
            throw ISOError(operation: .addNode, path: path, errno: ENOMEM, message: "out of memory")
        }
        _ = UnsafeMutableBufferPointer(start: buffer, count: size).initialize(from: contents)
        var stream: UnsafeMutablePointer<IsoStream>?
        var rc = iso_memory_stream_new(buffer, size, &stream)
        guard rc >= 0, let stream else {
            free(buffer)
            throw .library(.addNode, path: path, code: rc)
        }
        var file: OpaquePointer?
        rc = iso_image_add_new_file(handle, parent, name, stream, &file)
        guard rc >= 0, let file else {
            iso_stream_unref(stream)
            throw .library(.addNode, path: path, code: rc, details: ISOLibrary.messages(for: messageID))
        }
        Self.apply(defaultAttributes.overridden(by: attributes), to: file)
    }

    /// Adds a regular file whose contents libisofs reads from `hostPath` when the image is written,
    /// creating missing parents. It takes the host file's mode, owner and times unless `attributes`
    /// override them. A symlink at `hostPath` is followed.
    /// - Throws: `ISOError` (`.addNode`) naming `hostPath` when it is not a readable regular file.
    public func addFile(_ path: String, hostPath: String, attributes: NodeAttributes? = nil) throws(ISOError) {
        var info = stat()
        guard stat(hostPath, &info) == 0 else { throw .system(.addNode, path: hostPath, what: "cannot add") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ISOError(operation: .addNode, path: hostPath, message: "not a regular file")
        }
        guard access(hostPath, R_OK) == 0 else { throw .system(.addNode, path: hostPath, what: "cannot read") }
        let (parent, name) = try parentAndName(of: path)
        iso_tree_set_follow_symlinks(handle, 1)
        defer { iso_tree_set_follow_symlinks(handle, 0) }
        var node: OpaquePointer?
        let rc = iso_tree_add_new_node(handle, parent, name, hostPath, &node)
        guard rc >= 0, let node else {
            throw .library(.addNode, path: "\(hostPath) as \(path)", code: rc,
                           details: ISOLibrary.messages(for: messageID))
        }
        if let attributes { Self.apply(attributes, to: node) }
    }

    /// Adds a symbolic link to `target`, creating missing parents. Mode 0777.
    /// - Throws: `ISOError` (`.addNode`) when the name exists or is invalid.
    public func addSymlink(_ path: String, target: String, attributes: NodeAttributes? = nil) throws(ISOError) {
        let (parent, name) = try parentAndName(of: path)
        var link: OpaquePointer?
        let rc = iso_image_add_new_symlink(handle, parent, name, target, &link)
        guard rc >= 0, let link else {
            throw .library(.addNode, path: path, code: rc, details: ISOLibrary.messages(for: messageID))
        }
        Self.apply(defaultAttributes.overridden(by: attributes), to: link)
    }

    /// Adds the contents of the host directory `hostDirectory` (recursively, symlinks kept as links)
    /// into directory `path` of the image, creating it if needed. Nodes keep their host attributes.
    /// - Throws: `ISOError` (`.addNode`) when the host directory or any entry in it cannot be added.
    public func addTree(_ path: String, hostDirectory: String) throws(ISOError) {
        var info = stat()
        guard stat(hostDirectory, &info) == 0 else {
            throw .system(.addNode, path: hostDirectory, what: "cannot add")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw ISOError(operation: .addNode, path: hostDirectory, message: "not a directory")
        }
        let parent = try directory(at: path, creating: true)
        let rc = iso_tree_add_dir_rec(handle, parent, hostDirectory)
        guard rc >= 0 else {
            throw .library(.addNode, path: "\(hostDirectory) into \(path)", code: rc,
                           details: ISOLibrary.messages(for: messageID))
        }
    }

    /// Sets the attributes of the existing node at `path` (fields left `nil` are not changed).
    /// - Throws: `ISOError` (`.findNode`) when there is no such node.
    public func setAttributes(_ path: String, _ attributes: NodeAttributes) throws(ISOError) {
        guard let node = try node(at: path) else {
            throw ISOError(operation: .findNode, path: path, message: "no such file or directory in the image")
        }
        Self.apply(attributes, to: node)
    }

    // MARK: Tree helpers

    /// The node at `path`, or `nil` when there is none.
    func node(at path: String) throws(ISOError) -> OpaquePointer? {
        let components = try Self.components(of: path)
        if components.isEmpty { return iso_image_get_root(handle) }
        var found: OpaquePointer?
        let rc = iso_tree_path_to_node(handle, "/" + components.joined(separator: "/"), &found)
        guard rc >= 0 else { throw .library(.findNode, path: path, code: rc) }
        return rc == 1 ? found : nil
    }

    private func directory(at path: String, creating: Bool) throws(ISOError) -> OpaquePointer {
        var current: OpaquePointer = iso_image_get_root(handle)
        var walked = ""
        for component in try Self.components(of: path) {
            walked += "/" + component
            var found: OpaquePointer?
            let rc = iso_tree_path_to_node(handle, walked, &found)
            guard rc >= 0 else { throw .library(.findNode, path: walked, code: rc) }
            if rc == 1, let found {
                guard iso_node_get_type(found) == LIBISO_DIR else {
                    throw ISOError(operation: .addNode, path: walked, message: "exists and is not a directory")
                }
                current = found
                continue
            }
            guard creating else {
                throw ISOError(operation: .findNode, path: walked, message: "no such directory in the image")
            }
            var created: OpaquePointer?
            let added = iso_image_add_new_dir(handle, current, component, &created)
            guard added >= 0, let created else {
                throw .library(.addNode, path: walked, code: added, details: ISOLibrary.messages(for: messageID))
            }
            Self.apply(defaultAttributes, to: created)
            current = created
        }
        return current
    }

    private func parentAndName(of path: String) throws(ISOError) -> (OpaquePointer, String) {
        var components = try Self.components(of: path)
        guard let name = components.popLast() else {
            throw ISOError(operation: .addNode, path: path, message: "the root cannot be replaced")
        }
        let parent = try directory(at: "/" + components.joined(separator: "/"), creating: true)
        return (parent, name)
    }

    static func components(of path: String) throws(ISOError) -> [String] {
        guard path.hasPrefix("/") else {
            throw ISOError(operation: .findNode, path: path, message: "image paths must be absolute")
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for component in components where component == "." || component == ".." || component.utf8.contains(0) {
            throw ISOError(operation: .findNode, path: path, message: "invalid path component \"\(component)\"")
        }
        return components
    }

    /// Sets the fields of `attributes` that are not `nil` on `node`.
    static func apply(_ attributes: NodeAttributes, to node: OpaquePointer) {
        if let permissions = attributes.permissions { iso_node_set_permissions(node, mode_t(permissions & 0o7777)) }
        if let uid = attributes.uid { iso_node_set_uid(node, uid_t(uid)) }
        if let gid = attributes.gid { iso_node_set_gid(node, gid_t(gid)) }
        if let timestamp = attributes.timestamp {
            iso_node_set_mtime(node, time_t(timestamp))
            iso_node_set_atime(node, time_t(timestamp))
            iso_node_set_ctime(node, time_t(timestamp))
        }
    }
}

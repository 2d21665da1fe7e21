import Foundation

/// What the user asked to change in the µOS rootfs, before it is checked against the rootfs
/// (`EditPlan.resolve(_:against:)` turns it into concrete changes).
///
/// Paths may be written absolute (`/usr/bin/install-os`) or relative to the root; unit names may omit `.service`.
public struct EditRequest: Codable, Sendable, Equatable {
    /// The agent services the µOS enables and the installer medium must not run.
    public static let agentUnits = ["tink-worker.service", "caddy.service", "fluent-bit.service", "device-discovery.service"]

    /// The request `emts-iso build` starts from: the agent units disabled, nothing else.
    public static var standard: EditRequest { EditRequest(disableUnits: agentUnits) }

    /// mtime of added entries when the request names none: the epoch, so builds are reproducible.
    public static let defaultMtime: Int64 = 0

    /// Units to mask and whose enablement links to remove.
    public var disableUnits: [String]
    /// Units to enable as their `[Install]` section says (the unit file may be one of `files`).
    public var enableUnits: [String]
    public var files: [File]
    public var directories: [Directory]
    public var symlinks: [Symlink]
    /// mtime (seconds since the epoch) of everything added without its own: parent directories, masks, links.
    public var mtime: Int64
    /// Packages to inject, with their dependencies.
    public var packages: PackageRequest?

    public init(disableUnits: [String] = [], enableUnits: [String] = [], files: [File] = [],
                directories: [Directory] = [], symlinks: [Symlink] = [], mtime: Int64 = EditRequest.defaultMtime,
                packages: PackageRequest? = nil) {
        self.disableUnits = disableUnits
        self.enableUnits = enableUnits
        self.files = files
        self.directories = directories
        self.symlinks = symlinks
        self.mtime = mtime
        self.packages = packages
    }

    /// Asks for nothing.
    public var isEmpty: Bool {
        disableUnits.isEmpty && enableUnits.isEmpty && files.isEmpty && directories.isEmpty && symlinks.isEmpty
            && packages == nil
    }

    /// A regular file to add.
    public struct File: Codable, Sendable, Equatable {
        public var destination: String
        public var source: FileSource
        public var permissions: UInt32
        public var uid: Int64
        public var gid: Int64
        /// `nil`: the request's `mtime`.
        public var mtime: Int64?

        public init(destination: String, source: FileSource, permissions: UInt32 = 0o644, uid: Int64 = 0,
                    gid: Int64 = 0, mtime: Int64? = nil) {
            self.destination = destination
            self.source = source
            self.permissions = permissions
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
        }
    }

    /// A directory to add.
    public struct Directory: Codable, Sendable, Equatable {
        public var path: String
        public var permissions: UInt32
        public var uid: Int64
        public var gid: Int64
        public var mtime: Int64?

        public init(path: String, permissions: UInt32 = 0o755, uid: Int64 = 0, gid: Int64 = 0, mtime: Int64? = nil) {
            self.path = path
            self.permissions = permissions
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
        }
    }

    /// A symbolic link to add.
    public struct Symlink: Codable, Sendable, Equatable {
        public var path: String
        public var target: String
        public var uid: Int64
        public var gid: Int64
        public var mtime: Int64?

        public init(path: String, target: String, uid: Int64 = 0, gid: Int64 = 0, mtime: Int64? = nil) {
            self.path = path
            self.target = target
            self.uid = uid
            self.gid = gid
            self.mtime = mtime
        }
    }

    /// Where an added file's bytes come from.
    ///
    /// JSON: `{"hostFile": "/path", "size": 123}` or `{"inline": "<base64>"}`.
    public enum FileSource: Codable, Sendable, Equatable {
        /// A file on the build host, with the size it had when the request was made (the writer checks it).
        case hostFile(path: String, size: Int64)
        /// The bytes themselves (small generated files such as unit files).
        case inline([UInt8])
        /// A host file with some bytes replaced on the way (an executable's runpath rewritten in place).
        case patchedHostFile(path: String, size: Int64, patches: [BytePatch])

        /// Bytes that replace the file's bytes at `offset`.
        public struct BytePatch: Codable, Sendable, Equatable {
            public var offset: Int64
            public var bytes: [UInt8]

            public init(offset: Int64, bytes: [UInt8]) {
                self.offset = offset
                self.bytes = bytes
            }

            /// Applies the part of this patch that falls into `chunk`, which holds the file's bytes from `start`.
            func apply(to chunk: inout [UInt8], start: Int64) {
                let from = max(offset, start), to = min(offset + Int64(bytes.count), start + Int64(chunk.count))
                guard from < to else { return }
                for position in from..<to { chunk[Int(position - start)] = bytes[Int(position - offset)] }
            }
        }

        /// Data size in bytes.
        public var size: Int64 {
            switch self {
            case .hostFile(_, let size), .patchedHostFile(_, let size, _): size
            case .inline(let bytes): Int64(bytes.count)
            }
        }

        /// A host file, measured now. This and `EditPlan.resolve` (for a unit file to enable) are the only places
        /// the edit plan touches the host disk.
        ///
        /// - Throws: `EditPlanError.hostFile` when it does not exist or is not a regular file.
        public static func hostFile(at path: String) throws -> FileSource {
            let attributes: [FileAttributeKey: Any]
            do {
                attributes = try FileManager.default.attributesOfItem(atPath: path)
            } catch {
                throw EditPlanError.hostFile(path: path, message: "cannot read: \(error.localizedDescription)")
            }
            guard attributes[.type] as? FileAttributeType == .typeRegular else {
                throw EditPlanError.hostFile(path: path, message: "not a regular file")
            }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
            return .hostFile(path: path, size: size)
        }

        /// The bytes: inline ones, or the host file read whole.
        func contents() throws -> [UInt8] {
            switch self {
            case .inline(let bytes):
                return bytes
            case .hostFile(let path, _):
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw EditPlanError.hostFile(path: path, message: "cannot read")
                }
                return [UInt8](data)
            case .patchedHostFile(let path, _, let patches):
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw EditPlanError.hostFile(path: path, message: "cannot read")
                }
                var bytes = [UInt8](data)
                for patch in patches { patch.apply(to: &bytes, start: 0) }
                return bytes
            }
        }

        private enum CodingKeys: String, CodingKey { case hostFile, size, inline, patches }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let path = try container.decodeIfPresent(String.self, forKey: .hostFile) {
                let size = try container.decode(Int64.self, forKey: .size)
                if let patches = try container.decodeIfPresent([BytePatch].self, forKey: .patches) {
                    self = .patchedHostFile(path: path, size: size, patches: patches)
                } else {
                    self = .hostFile(path: path, size: size)
                }
            } else {
                let text = try container.decode(String.self, forKey: .inline)
                guard let data = Data(base64Encoded: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .inline, in: container, debugDescription: "not base64")
                }
                self = .inline([UInt8](data))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .hostFile(let path, let size):
                try container.encode(path, forKey: .hostFile)
                try container.encode(size, forKey: .size)
            case .patchedHostFile(let path, let size, let patches):
                try container.encode(path, forKey: .hostFile)
                try container.encode(size, forKey: .size)
                try container.encode(patches, forKey: .patches)
            case .inline(let bytes):
                try container.encode(Data(bytes).base64EncodedString(), forKey: .inline)
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case disableUnits, enableUnits, files, directories, symlinks, mtime, packages
    }

    /// Absent keys mean "nothing of that kind" (and the default mtime).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            disableUnits: try container.decodeIfPresent([String].self, forKey: .disableUnits) ?? [],
            enableUnits: try container.decodeIfPresent([String].self, forKey: .enableUnits) ?? [],
            files: try container.decodeIfPresent([File].self, forKey: .files) ?? [],
            directories: try container.decodeIfPresent([Directory].self, forKey: .directories) ?? [],
            symlinks: try container.decodeIfPresent([Symlink].self, forKey: .symlinks) ?? [],
            mtime: try container.decodeIfPresent(Int64.self, forKey: .mtime) ?? EditRequest.defaultMtime,
            packages: try container.decodeIfPresent(PackageRequest.self, forKey: .packages))
    }
}

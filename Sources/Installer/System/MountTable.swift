/// What is mounted and what swaps: `/proc/self/mountinfo` and `/proc/swaps`, parsed.
public struct MountTable: Sendable, Equatable {
    /// One mount.
    public struct Entry: Sendable, Equatable {
        /// `major:minor` of the mounted device (`0:NN` for virtual file systems).
        public var deviceNumber: String
        public var mountPoint: String
        public var fileSystemType: String
        /// The mount source as given to mount(2): `/dev/sda1`, `tmpfs`, ...
        public var source: String
    }

    public var entries: [Entry]
    /// The devices in use as swap (`/dev/sda2`), from `/proc/swaps`.
    public var swapDevices: [String]

    public init(entries: [Entry], swapDevices: [String] = []) {
        self.entries = entries
        self.swapDevices = swapDevices
    }

    /// Parses the text of `/proc/self/mountinfo` and, optionally, of `/proc/swaps`. Lines that do not have
    /// mountinfo's shape are skipped.
    public init(mountInfo: String, swaps: String? = nil) {
        var entries: [Entry] = []
        for line in mountInfo.split(separator: "\n") {
            // id parent major:minor root mount-point options [optional fields...] - type source super-options
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 7, let separator = fields.firstIndex(of: "-"), separator >= 6,
                  separator + 2 < fields.count else { continue }
            entries.append(Entry(deviceNumber: fields[2], mountPoint: Self.unescape(fields[4]),
                                 fileSystemType: fields[separator + 1], source: Self.unescape(fields[separator + 2])))
        }
        var swapDevices: [String] = []
        for line in (swaps ?? "").split(separator: "\n").dropFirst() {
            if let device = line.split(separator: " ", omittingEmptySubsequences: true).first {
                swapDevices.append(Self.unescape(String(device)))
            }
        }
        self.init(entries: entries, swapDevices: swapDevices)
    }

    /// Reads the tables of the running system (empty when they cannot be read).
    public static func read(_ paths: HostPaths) -> MountTable {
        MountTable(mountInfo: SysfsFiles.contents(paths.mountInfo) ?? "", swaps: SysfsFiles.contents(paths.swaps))
    }

    /// Where the block device with kernel `name` and device number `deviceNumber` is mounted.
    public func mountPoints(name: String, deviceNumber: String?, paths: HostPaths) -> [String] {
        entries.filter { entry in
            (deviceNumber != nil && entry.deviceNumber == deviceNumber && !entry.deviceNumber.hasPrefix("0:"))
                || entry.source == "/dev/" + name || entry.source == paths.devicePath(name)
        }.map(\.mountPoint)
    }

    /// Whether the block device `name` is an active swap device.
    public func isSwap(name: String, paths: HostPaths) -> Bool {
        swapDevices.contains("/dev/" + name) || swapDevices.contains(paths.devicePath(name))
    }

    /// mountinfo and swaps escape space, tab, newline and backslash as `\ooo`.
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 4 <= source.count {
                let digits = source[(index + 1) ..< (index + 4)]
                if digits.allSatisfy({ (UInt8(ascii: "0") ... UInt8(ascii: "7")).contains($0) }) {
                    let value = digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
                    if value < 256 {
                        bytes.append(UInt8(value))
                        index += 4
                        continue
                    }
                }
            }
            bytes.append(source[index])
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

import Foundation
import StreamKit

/// The medium's writable config partition (FAT, label `EMTS-CONFIG`): the field engineer's
/// `installer.yaml` comes from it, and install-os saves its log to `logs/` on it.
public struct ConfigPartition: Sendable {
    public static let configName = "installer.yaml"
    public static let logDirectory = "logs"

    /// The partition's device (`/dev/sdb3`).
    public var device: String
    public var mounter: any FileSystemMounter

    public init(device: String, mounter: any FileSystemMounter) {
        self.device = device
        self.mounter = mounter
    }

    /// How the config file is named in messages.
    public var configDisplayName: String { displayName(Self.configName) }

    /// How a file of the partition is named in messages.
    func displayName(_ file: String) -> String { "\(BootMedium.configLabel):/\(file) (\(device))" }

    /// Reads `installer.yaml` (mounted read-only for the time of the read); without it, the shell installer's
    /// `config-file` (`LegacyConfigFile`, its warnings carried by the result); `nil` when there is neither.
    /// - Throws: `InstallerConfigError` when the partition cannot be mounted (a configuration may be there)
    ///   or the file cannot be used.
    public func readConfig() throws(InstallerConfigError) -> InstallerConfigFile? {
        try read().config
    }

    /// The configuration (as `readConfig`) and the helper scripts of its `cloud-scripts/` folder, in one mount.
    public func read() throws(InstallerConfigError) -> (config: InstallerConfigFile?, scripts: [HelperScript]) {
        let mounted: MountedFileSystem
        do {
            mounted = try mounter.mount(device, type: "vfat", access: .readOnly)
        } catch {
            throw .unreadable(file: configDisplayName, reason: "cannot mount the config partition: \(error.reason)")
        }
        defer { try? mounter.unmount(mounted) }
        // FAT is case-insensitive, but the mount shows names as written: accept INSTALLER.YAML too.
        let files = SysfsFiles.list(mounted.root)
        let scripts = try files.first { $0.lowercased() == HelperScriptFolder.name }.map { folder throws(InstallerConfigError) in
            try HelperScriptFolder.read(mounted.path(folder), shownAs: displayName(folder)) { displayName(folder + "/" + $0) }
        } ?? []
        let legacy = files.first { $0.lowercased() == LegacyConfigFile.fileName }
        if let name = files.first(where: { $0.lowercased() == Self.configName }),
           var file = try InstallerConfigFile.read(mounted.path(name), displayName: configDisplayName) {
            if let legacy {
                file.warnings.append("\(displayName(legacy)): not read, \(Self.configName) is used")
            }
            return (file, scripts)
        }
        guard let legacy else { return (nil, scripts) }
        return (try LegacyConfigFile.read(mounted.path(legacy), displayName: displayName(legacy))?.configFile, scripts)
    }

    /// Saves `text` as `logs/install-<UTC time>.log`, flushed, and unmounts. Returns the path on the partition.
    /// - Throws: `MountError` naming the partition or the file.
    @discardableResult
    public func saveLog(_ text: String, at date: Date) throws(MountError) -> String {
        let mounted = try mounter.mount(device, type: "vfat", access: .readWrite)
        var unmounted = false
        defer { if !unmounted { try? mounter.unmount(mounted) } }
        let directory = mounted.path(Self.logDirectory)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MountError(path: "\(device):/\(Self.logDirectory)", operation: "creating the log folder",
                             reason: error.localizedDescription)
        }
        let base = "install-" + Self.fileTimestamp(date)
        var name = base + ".log"
        var suffix = 2
        while FileManager.default.fileExists(atPath: directory + "/" + name) {
            name = "\(base)-\(suffix).log"
            suffix += 1
        }
        let relative = "\(Self.logDirectory)/\(name)"
        do {
            let file = try FileSink(creating: directory + "/" + name, displayPath: "\(device):/\(relative)")
            try Array(text.utf8).withUnsafeBytes { try file.write($0) }
            try file.close()
        } catch {
            throw MountError(path: "\(device):/\(relative)", operation: "writing the log", reason: "\(error)")
        }
        try mounter.unmount(mounted)
        unmounted = true
        return relative
    }

    /// `20250131T120000Z`: sortable, and legal in FAT names (no colons).
    static func fileTimestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}

import Foundation

/// What a µOS holds that matters to an install medium, read from a scan of its initramfs: which units are
/// masked and enabled, the provisioning agents' state, install-os and its config, and the records emts-iso
/// leaves in `/usr/share/emts/`.
public struct MicroOSFacts: Codable, Sendable, Equatable {
    /// How systemd would see a unit, from its files and links alone.
    public enum UnitState: String, Codable, Sendable {
        /// Linked to `/dev/null` in a unit directory.
        case masked
        /// Linked from a `*.wants/` or `*.requires/` directory.
        case enabled
        /// A unit file, not linked anywhere.
        case disabled
        /// No unit file and no link.
        case absent
    }

    /// Where emts-iso puts install-os and its unit in the µOS.
    public static let installerBinary = "/usr/bin/install-os"
    public static let installerUnit = "install-os.service"
    /// The installer config the build embedded (`--installer-config`).
    public static let installerConfig = "/etc/emts/installer.yaml"
    /// The record of injected packages (`PackageRecord` lines as JSON).
    public static let packagesRecord = "/usr/share/emts/injected-packages.json"
    /// install-os's version, written next to it by the build.
    public static let installerVersionRecord = "/usr/share/emts/install-os.version"

    public var nestedEntries: Int
    public var nestedCompression: String
    /// Units masked, sorted.
    public var masked: [String]
    /// Units enabled, sorted.
    public var enabled: [String]
    /// The four provisioning agents and the installer unit, with their state.
    public var units: [String: UnitState]
    /// Whether `/usr/bin/install-os` is in the root, and its recorded version.
    public var installerPresent: Bool
    public var installerVersion: String?
    /// The embedded installer config, as text.
    public var installerConfigText: String?
    /// The injected-packages record, as JSON text, when the build injected packages.
    public var packagesRecordText: String?

    /// Reads the facts from a scan.
    public init(scan: MicroOSScan) {
        let index = scan.index
        nestedEntries = scan.nested.entries
        nestedCompression = scan.nested.compression.rawValue
        var masked: Set<String> = []
        var enabled: Set<String> = []
        for link in index.unitLinks {
            switch link.relation {
            case .alias where link.target == "/dev/null":
                masked.insert(link.name)
            case .wants, .requires:
                enabled.insert(link.name)
            case .alias:
                break
            }
        }
        self.masked = masked.sorted()
        self.enabled = enabled.sorted()
        var units: [String: UnitState] = [:]
        for unit in EditRequest.agentUnits + [Self.installerUnit] {
            if masked.contains(unit) {
                units[unit] = .masked
            } else if enabled.contains(unit) {
                units[unit] = .enabled
            } else if index.unitFile(named: unit) != nil {
                units[unit] = .disabled
            } else {
                units[unit] = .absent
            }
        }
        self.units = units
        let binary = String(Self.installerBinary.dropFirst())
        installerPresent = (try? index.resolve(binary)).flatMap { index.node(at: $0) }?.kind == .regular
        installerVersion = index.keptContents(of: String(Self.installerVersionRecord.dropFirst()))
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        installerConfigText = index.keptContents(of: String(Self.installerConfig.dropFirst()))
            .map { String(decoding: $0, as: UTF8.self) }
        packagesRecordText = index.keptContents(of: String(Self.packagesRecord.dropFirst()))
            .map { String(decoding: $0, as: UTF8.self) }
    }
}

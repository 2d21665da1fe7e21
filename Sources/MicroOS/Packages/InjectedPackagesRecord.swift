import Foundation
import PackageKit

/// `/usr/share/emts/injected-packages.json` (`MicroOSFacts.packagesRecord`): every package emts-iso injected into
/// this root, as a JSON array of `{name, version, architecture, format, files}` (`files`: how many non-directory
/// entries it placed).
///
/// An RPM µOS's rpm database is not read (nor written), so this record is how a second injection knows what the
/// first one installed.
public struct InjectedPackagesRecord: Sendable, Equatable {
    public struct Package: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var architecture: String
        public var format: PackageFormat
        public var files: Int

        public init(name: String, version: String, architecture: String, format: PackageFormat, files: Int) {
            self.name = name
            self.version = version
            self.architecture = architecture
            self.format = format
            self.files = files
        }
    }

    /// The record's path relative to the root.
    static let path = String(MicroOSFacts.packagesRecord.dropFirst())

    public var packages: [Package]

    public init(packages: [Package] = []) {
        self.packages = packages
    }

    /// Reads the record's JSON text; no bytes means no record.
    /// - Throws: `PackageInjectionError.database` naming the record when it is not such an array.
    public init(json bytes: [UInt8]?) throws {
        guard let bytes else {
            self.init()
            return
        }
        do {
            self.init(packages: try JSONDecoder().decode([Package].self, from: Data(bytes)))
        } catch {
            throw PackageInjectionError.database(path: MicroOSFacts.packagesRecord, message: "not a record of injected packages: \(error)")
        }
    }

    /// The recorded packages as the resolver sees installed ones.
    var installed: [InstalledPackage] {
        packages.map { InstalledPackage(name: $0.name, version: PackageVersion(parsing: $0.version, format: $0.format),
                                        architecture: $0.architecture) }
    }

    /// This record with `injected` added (replacing earlier records of the same names).
    func adding(_ injected: [InjectedPackage]) -> InjectedPackagesRecord {
        let names = Set(injected.map(\.name))
        return InjectedPackagesRecord(packages: packages.filter { !names.contains($0.name) } + injected.map {
            Package(name: $0.name, version: $0.version, architecture: $0.architecture, format: $0.format, files: $0.fileCount)
        })
    }

    /// Pretty JSON with sorted keys, ending in a newline.
    var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding an array of plain values cannot fail.
        let data = (try? encoder.encode(packages)) ?? Data("[]".utf8)
        return [UInt8](data) + [0x0A]
    }
}

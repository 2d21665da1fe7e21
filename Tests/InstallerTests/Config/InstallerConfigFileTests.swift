import Foundation
@testable import Installer
import Testing

@Suite struct InstallerConfigFileTests {
    @Test func readsEveryKey() throws {
        let file = try InstallerConfigFile(yaml: """
            # installer configuration
            target: /dev/disk/by-id/nvme-Samsung_SSD_980_S1
            target_preference: largest
            image: emt-s-3.0.raw.gz
            after_install: poweroff
            min_disk_gb: 64
            progress_interval_seconds: 10
            """, path: "installer.yaml")
        let settings = file.settings
        #expect(settings.target == .device("/dev/disk/by-id/nvme-Samsung_SSD_980_S1"))
        #expect(settings.targetPreference == .largest)
        #expect(settings.image == "emt-s-3.0.raw.gz")
        #expect(settings.afterInstall == AfterInstall.poweroff)
        #expect(settings.minDiskGB == 64)
        #expect(settings.progressIntervalSeconds == 10)
        #expect(settings.keysSet == InstallerSettings.Key.allCases)
    }

    @Test func emptyAndCommentOnlyFilesSetNothing() throws {
        #expect(try InstallerConfigFile(yaml: "", path: "a").settings == InstallerSettings())
        #expect(try InstallerConfigFile(yaml: "# nothing yet\n\n", path: "a").settings == InstallerSettings())
        #expect(try InstallerConfigFile(yaml: "target: auto\n", path: "a").settings.target == .auto)
        #expect(try InstallerConfigFile(yaml: "target: sda\r\nafter_install: none\r\n", path: "a").settings
            == InstallerSettings(target: .device("sda"), afterInstall: AfterInstall.none))
    }

    @Test func unknownKeyNamesTheKeyAndLineAndSuggests() {
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "target: auto\n\ntarget_prefernce: smallest\n", path: "/etc/emts/installer.yaml")
        }
        guard case .unknownKey(let file, let key, let line, let known, let suggestion) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(file == "/etc/emts/installer.yaml")
        #expect(key == "target_prefernce")
        #expect(line == 3)
        #expect(suggestion == "target_preference")
        #expect(known.contains("progress_interval_seconds"))
        #expect(error?.description.hasPrefix("/etc/emts/installer.yaml:3: unknown key \"target_prefernce\" (did you mean \"target_preference\"?)") == true)
    }

    @Test func keyOfALaterIssueIsUnknownWithoutASuggestion() {
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "image: a.raw.gz\nhttp_proxy: http://proxy:3128\n", path: "c.yaml")
        }
        guard case .unknownKey(_, "http_proxy", 2, _, nil) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [
        ("progress_interval_seconds: [1, 2]\n", "progress_interval_seconds", 1, "a whole number of seconds", "a list"),
        ("target: auto\nmin_disk_gb: lots\n", "min_disk_gb", 2, "a number of GB", "\"lots\""),
        ("target:\n  device: sda\n", "target", 2, "auto, a /dev/ path or a kernel device name", "a mapping"),
        ("\n\nprogress_interval_seconds: 2.5\n", "progress_interval_seconds", 3, "a whole number of seconds", "\"2.5\""),
    ])
    func wrongTypeNamesKeyLineAndTypes(yaml: String, key: String, line: Int, expected: String, found: String) {
        let error = #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: yaml, path: "c.yaml") }
        #expect(error == .wrongType(file: "c.yaml", key: key, line: line, expected: expected, found: found))
    }

    @Test func invalidValuesNameTheAcceptedOnes() {
        let preference = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "target: auto\ntarget_preference: biggest\n", path: "c.yaml")
        }
        #expect(preference == .invalidValue(file: "c.yaml", key: "target_preference", line: 2,
                                            message: "\"biggest\" is not one of smallest | largest"))
        #expect(preference?.description == "c.yaml:2: target_preference: \"biggest\" is not one of smallest | largest")

        let after = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "after_install: no\n", path: "c.yaml")
        }
        #expect(after == .invalidValue(file: "c.yaml", key: "after_install", line: 1,
                                       message: "\"no\" is not one of reboot | poweroff | none"))

        let target = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "target: disk/by-id/x\n", path: "c.yaml")
        }
        guard case .invalidValue(_, "target", 1, _) = target else {
            Issue.record("unexpected \(String(describing: target))")
            return
        }
        #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: "target: /etc/passwd\n", path: "c") }
        #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: "image: ../x.raw.gz\n", path: "c") }
        #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: "min_disk_gb: 0\n", path: "c") }
        #expect(throws: InstallerConfigError.self) { try InstallerConfigFile(yaml: "progress_interval_seconds: 0\n", path: "c") }
    }

    @Test func duplicateKeyIsAnError() {
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "target: sda\nimage: a.raw.gz\ntarget: sdb\n", path: "c.yaml")
        }
        guard case .duplicateKey("c.yaml", "target", let line?) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect((1 ... 3).contains(line))
        #expect(error?.description.contains("key \"target\" given more than once") == true)
    }

    @Test func syntaxErrorNamesTheLine() {
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "target: auto\nimage: [a.raw.gz\nafter_install: none\n", path: "c.yaml")
        }
        guard case .syntax("c.yaml", let line?, _) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect((2 ... 4).contains(line))
    }

    @Test func documentMustBeAMapping() {
        let error = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile(yaml: "- target: auto\n", path: "c.yaml")
        }
        #expect(error == .wrongType(file: "c.yaml", key: "the document", line: 1,
                                    expected: "a mapping of keys (key: value lines)", found: "a list"))
    }

    @Test func readsFilesAndRefusesNonUTF8() throws {
        try withScratchDirectory { directory in
            let path = directory.appendingPathComponent("installer.yaml").path
            #expect(try InstallerConfigFile.read(path) == nil)

            try Data([0xEF, 0xBB, 0xBF] + Array("target: sda\n".utf8)).write(to: URL(fileURLWithPath: path))
            #expect(try InstallerConfigFile.read(path, displayName: "stick")?.settings.target == .device("sda"))
            #expect(try InstallerConfigFile.read(path, displayName: "stick")?.path == "stick")

            try Data([0xFF, 0xFE, 0x74, 0x00]).write(to: URL(fileURLWithPath: path))
            #expect(throws: InstallerConfigError.unreadable(file: path, reason: "is UTF-16 text; save it as UTF-8")) {
                try InstallerConfigFile.read(path)
            }
            try Data([0x74, 0xC3, 0x28]).write(to: URL(fileURLWithPath: path))
            #expect(throws: InstallerConfigError.unreadable(file: path, reason: "is not UTF-8 text; save it as UTF-8")) {
                try InstallerConfigFile.read(path)
            }
        }
    }
}

/// A schema with a nested section, as later issues add (`user:`), to show that sections refuse unknown keys
/// with the dotted key and its line, through the same decoding.
private struct SchemaWithSection: Decodable {
    enum Key: String, CodingKey, CaseIterable { case target, user }
    struct User: Decodable {
        enum Key: String, CodingKey, CaseIterable { case name, sshKeys = "ssh_keys" }
        var name: String?
        var sshKeys: [String]?
        init(from decoder: any Decoder) throws {
            let container = try decoder.strictContainer(keyedBy: Key.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            sshKeys = try container.decodeIfPresent([String].self, forKey: .sshKeys)
        }
    }
    var target: TargetSelector?
    var user: User?
    init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        target = try container.decodeIfPresent(TargetSelector.self, forKey: .target)
        user = try container.decodeIfPresent(User.self, forKey: .user)
    }
}

@Suite struct NestedSectionTests {
    @Test func nestedSectionsAreCheckedTheSameWay() throws {
        let good = try InstallerConfigFile.decode(SchemaWithSection.self, yaml: """
            target: auto
            user:
              name: edge
              ssh_keys: ["ssh-ed25519 AAAA"]
            """, path: "c.yaml")
        #expect(good?.user?.name == "edge")
        #expect(good?.user?.sshKeys == ["ssh-ed25519 AAAA"])

        let unknown = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile.decode(SchemaWithSection.self, yaml: "user:\n  name: edge\n  pasword: x\n", path: "c.yaml")
        }
        #expect(unknown == .unknownKey(file: "c.yaml", key: "user.pasword", line: 3, known: ["name", "ssh_keys"],
                                       suggestion: nil))

        let wrong = #expect(throws: InstallerConfigError.self) {
            try InstallerConfigFile.decode(SchemaWithSection.self, yaml: "user:\n  ssh_keys:\n    - a\n    - [b]\n", path: "c.yaml")
        }
        guard case .wrongType("c.yaml", "user.ssh_keys[1]", 4, _, "a list")? = wrong else {
            Issue.record("unexpected \(String(describing: wrong))")
            return
        }
    }
}

import ArchiveKit
import Foundation
import MicroOS
import Testing

@Suite struct EditPlanTests {
    typealias File = EditRequest.File

    private func plan(_ request: EditRequest, extra: [EditPlanFixture.Item] = []) throws -> EditPlan {
        try EditPlan.resolve(request, against: EditPlanFixture.microOSIndex(adding: extra))
    }

    private func installOS(enable: Bool = true, unitText: [UInt8] = EditPlanFixture.installOSUnit) -> EditRequest {
        EditRequest(
            enableUnits: enable ? ["install-os"] : [],
            files: [
                File(destination: "/usr/bin/install-os", source: .inline([1, 2, 3]), permissions: 0o755),
                File(destination: "/usr/lib/systemd/system/install-os.service", source: .inline(unitText)),
            ])
    }

    // MARK: Disable

    @Test func defaultSetRemovesEveryEnablementAndMasks() throws {
        let plan = try plan(.standard)
        let wants = "etc/systemd/system/multi-user.target.wants"
        #expect(plan.removals == [
            .init(path: "\(wants)/caddy.service", reason: .enablesUnit(unit: "caddy.service")),
            .init(path: "\(wants)/device-discovery.service", reason: .enablesUnit(unit: "device-discovery.service")),
            .init(path: "\(wants)/fluent-bit.service", reason: .enablesUnit(unit: "fluent-bit.service")),
            .init(path: "\(wants)/td-agent-bit.service", reason: .enablesUnit(unit: "fluent-bit.service")),
            .init(path: "\(wants)/tink-worker.service", reason: .enablesUnit(unit: "tink-worker.service")),
            .init(path: "etc/systemd/system/provisioning.target.requires/tink-worker.service",
                  reason: .enablesUnit(unit: "tink-worker.service")),
            .init(path: "etc/systemd/system/td-agent-bit.service", reason: .aliasOfUnit(unit: "fluent-bit.service")),
            .init(path: "usr/lib/systemd/system/multi-user.target.wants/caddy.service",
                  reason: .enablesUnit(unit: "caddy.service")),
        ])
        #expect(plan.additions == ["caddy", "device-discovery", "fluent-bit", "tink-worker"].map {
            EditPlan.Addition(path: "etc/systemd/system/\($0).service", kind: .symlink, permissions: 0o777, mtime: 0,
                              symlinkTarget: "/dev/null", purpose: .mask(unit: "\($0).service"))
        })
        #expect(plan.notes.isEmpty)
        #expect(plan.removes("\(wants)/caddy.service"))
        #expect(!plan.removes("\(wants)/sshd.service"))
        #expect(!plan.removes("./\(wants)/caddy.service"))  // normalized paths only
    }

    @Test func requestOrderDoesNotChangeThePlan() throws {
        var reversed = EditRequest.standard
        reversed.disableUnits.reverse()
        #expect(try plan(reversed) == plan(.standard))
    }

    @Test func namesWithoutSuffixAreServices() throws {
        #expect(try plan(EditRequest(disableUnits: ["caddy", "tink-worker", "fluent-bit", "device-discovery"]))
            == plan(.standard))
    }

    @Test func missingUnitIsANoteAndStillMasked() throws {
        let plan = try plan(EditRequest(disableUnits: ["nosuch"]))
        #expect(plan.removals.isEmpty)
        #expect(plan.additions.map(\.path) == ["etc/systemd/system/nosuch.service"])
        #expect(plan.notes == ["nosuch.service: not present in the rootfs; masked anyway, so it cannot start if it appears later"])
    }

    @Test func maskReplacesAnAdminUnitFile() throws {
        let plan = try plan(EditRequest(disableUnits: ["caddy"]),
                            extra: [EditPlanFixture.file("etc/systemd/system/caddy.service", EditPlanFixture.unit())])
        #expect(plan.removals.map(\.path).contains("etc/systemd/system/caddy.service"))
        #expect(plan.removals.first { $0.path == "etc/systemd/system/caddy.service" }?.reason
            == .replacedByMask(unit: "caddy.service"))
        #expect(plan.additions.map(\.path) == ["etc/systemd/system/caddy.service"])
        #expect(plan.notes == ["caddy.service: etc/systemd/system/caddy.service was a regular file; the mask replaces it"])
    }

    @Test func alreadyMaskedIsLeftAlone() throws {
        let plan = try plan(EditRequest(disableUnits: ["caddy"]),
                            extra: [EditPlanFixture.link("etc/systemd/system/caddy.service", "/dev/null")])
        #expect(plan.additions.isEmpty)
        #expect(plan.removals.count == 2)
        #expect(plan.notes == ["caddy.service: already masked"])
    }

    @Test func disablingAnInstanceLeavesTheOthers() throws {
        let plan = try plan(EditRequest(disableUnits: ["getty@tty1.service", "getty@tty2.service"]))
        #expect(plan.removals.map(\.path) == ["etc/systemd/system/getty.target.wants/getty@tty1.service"])
        #expect(plan.additions.map(\.path) == ["etc/systemd/system/getty@tty1.service", "etc/systemd/system/getty@tty2.service"])
        #expect(plan.notes.isEmpty)  // the template is there: both instances exist
    }

    @Test func disablingATemplateTakesEveryInstance() throws {
        let plan = try plan(EditRequest(disableUnits: ["getty@.service"]))
        #expect(plan.removals.map(\.path) == ["etc/systemd/system/getty.target.wants/getty@tty1.service"])
        #expect(plan.additions.map(\.path) == ["etc/systemd/system/getty@.service"])
    }

    // MARK: Enable

    @Test func enablingAnAddedUnitMakesItsWantsLink() throws {
        let plan = try plan(installOS())
        #expect(plan.removals.isEmpty)
        #expect(plan.additions.map(\.path) == [
            "etc/systemd/system/multi-user.target.wants/install-os.service",
            "usr/bin/install-os",
            "usr/lib/systemd/system/install-os.service",
        ])
        #expect(plan.additions[0] == EditPlan.Addition(
            path: "etc/systemd/system/multi-user.target.wants/install-os.service", kind: .symlink, permissions: 0o777,
            mtime: 0, symlinkTarget: "/usr/lib/systemd/system/install-os.service",
            purpose: .enable(unit: "install-os.service", directive: "WantedBy=multi-user.target")))
    }

    @Test func enablingCreatesMissingDirectoriesAndFollowsAlsoAliasAndRequiredBy() throws {
        let unit = Array("""
            [Install]
            WantedBy=emts-install.target
            RequiredBy=%p-done.target
            Alias=emts-installer.service
            Also=sshd.service
            """.utf8)
        var request = installOS(unitText: unit)
        request.mtime = 42
        let plan = try plan(request)
        let etc = "etc/systemd/system"
        let links = plan.additions.filter { $0.path.hasPrefix(etc) }
        #expect(links.map(\.path) == [
            "\(etc)/emts-install.target.wants",
            "\(etc)/emts-install.target.wants/install-os.service",
            "\(etc)/emts-installer.service",
            "\(etc)/install-os-done.target.requires",
            "\(etc)/install-os-done.target.requires/install-os.service",
        ])
        #expect(links.map(\.purpose) == [
            .parentDirectory,
            .enable(unit: "install-os.service", directive: "WantedBy=emts-install.target"),
            .alias(unit: "install-os.service"),
            .parentDirectory,
            .enable(unit: "install-os.service", directive: "RequiredBy=%p-done.target"),
        ])
        #expect(links.compactMap(\.symlinkTarget).allSatisfy { $0 == "/usr/lib/systemd/system/install-os.service" })
        #expect(plan.additions.allSatisfy { $0.mtime == 42 })
        #expect(plan.additions.first { $0.kind == .directory }?.permissions == 0o755)
        #expect(plan.notes == [
            "sshd.service: enabled too (Also= of install-os.service)",
            "etc/systemd/system/multi-user.target.wants/sshd.service: already links to /usr/lib/systemd/system/sshd.service; left as it is",
        ])
    }

    @Test func enablingARootfsUnitThroughLib() throws {
        let plan = try plan(EditRequest(enableUnits: ["getty@tty2.service"]))
        #expect(plan.additions == [EditPlan.Addition(
            path: "etc/systemd/system/getty.target.wants/getty@tty2.service", kind: .symlink, permissions: 0o777,
            mtime: 0, symlinkTarget: "/usr/lib/systemd/system/getty@.service",
            purpose: .enable(unit: "getty@tty2.service", directive: "WantedBy=getty.target"))])
        // The template enables its DefaultInstance=, which is already there.
        let template = try self.plan(EditRequest(enableUnits: ["getty@.service"]))
        #expect(template.isEmpty)
        #expect(template.notes.count == 1)
    }

    @Test func templateWithoutDefaultInstanceIsRefused() throws {
        let request = EditRequest(enableUnits: ["serial@.service"])
        let extra = [EditPlanFixture.file("usr/lib/systemd/system/serial@.service", EditPlanFixture.unit())]
        #expect(throws: EditPlanError.templateWithoutInstance(unit: "serial@.service")) { try plan(request, extra: extra) }
        #expect(EditPlanError.templateWithoutInstance(unit: "serial@.service").description
            == "serial@.service: a template unit without DefaultInstance=; enable an instance such as serial@NAME.service")
    }

    @Test func enableErrors() throws {
        #expect(throws: EditPlanError.noInstallSection(unit: "static.service")) {
            try plan(EditRequest(enableUnits: ["static"]))
        }
        #expect(throws: EditPlanError.noInstallSection(unit: "install-os.service")) {
            try plan(installOS(unitText: Array("[Service]\nExecStart=/x\n[Install]\n".utf8)))
        }
        #expect(throws: EditPlanError.unitNotFound(unit: "nosuch.service")) {
            try plan(EditRequest(enableUnits: ["nosuch"]))
        }
        #expect(throws: EditPlanError.enabledAndDisabled(unit: "caddy.service")) {
            try plan(EditRequest(disableUnits: ["caddy"], enableUnits: ["caddy.service"]))
        }
        #expect(throws: EditPlanError.unitMasked(unit: "sshd.service", path: "etc/systemd/system/sshd.service")) {
            try plan(EditRequest(enableUnits: ["sshd"]), extra: [EditPlanFixture.link("etc/systemd/system/sshd.service", "/dev/null")])
        }
        #expect(throws: EditPlanError.unsupportedSpecifier(unit: "install-os.service", value: "%H.target")) {
            try plan(installOS(unitText: Array("[Install]\nWantedBy=%H.target\n".utf8)))
        }
    }

    @Test func unitTextFromAHostFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("editplan-\(UUID().uuidString).service").path
        try Data(EditPlanFixture.installOSUnit).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = try EditRequest.FileSource.hostFile(at: path)
        #expect(source == .hostFile(path: path, size: Int64(EditPlanFixture.installOSUnit.count)))
        let plan = try plan(EditRequest(
            enableUnits: ["install-os"],
            files: [File(destination: "/etc/systemd/system/install-os.service", source: source)]))
        #expect(plan.additions.map(\.path) == [
            "etc/systemd/system/install-os.service",
            "etc/systemd/system/multi-user.target.wants/install-os.service",
        ])
        #expect(plan.additions[1].symlinkTarget == "/etc/systemd/system/install-os.service")

        #expect(throws: EditPlanError.self) { try EditRequest.FileSource.hostFile(at: path + ".missing") }
        #expect(throws: EditPlanError.hostFile(path: "/", message: "not a regular file")) {
            try EditRequest.FileSource.hostFile(at: "/")
        }
    }

    @Test func unrecordedUnitTextIsAnError() throws {
        let index = try RootfsIndex(EditPlanFixture.microOS.map(\.entry))  // scan recorded no contents
        #expect(throws: EditPlanError.unitContentsUnavailable(unit: "sshd.service", path: "usr/lib/systemd/system/sshd.service")) {
            try EditPlan.resolve(EditRequest(enableUnits: ["sshd"]), against: index)
        }
    }

    // MARK: Additions

    @Test func additionThroughBinLandsInUsrBin() throws {
        let plan = try plan(EditRequest(
            files: [File(destination: "/bin/install-os", source: .inline([1]), permissions: 0o755)],
            directories: [.init(path: "/lib")]))
        #expect(plan.additions.map(\.path) == ["usr/bin/install-os"])
        #expect(plan.additions[0].purpose == .requested(path: "bin/install-os"))
        #expect(plan.removals.isEmpty)
        #expect(!plan.removes("bin"))
        #expect(plan.notes == ["lib: already a directory (at usr/lib, through symlinks); left as it is"])
    }

    @Test func missingParentsAreCreated() throws {
        let plan = try plan(EditRequest(
            files: [File(destination: "/opt/emts/bin/tool", source: .inline([]), mtime: 7)],
            directories: [.init(path: "opt/emts", permissions: 0o700, uid: 1000, gid: 1000)], mtime: 99))
        #expect(plan.additions.map { "\($0.path) \(String($0.permissions, radix: 8)) \($0.uid) \($0.mtime)" } == [
            "opt 755 0 99", "opt/emts 700 1000 99", "opt/emts/bin 755 0 99", "opt/emts/bin/tool 644 0 7",
        ])
        #expect(plan.additions.map(\.archiveEntry.kind) == [.directory, .directory, .directory, .regular])
    }

    @Test func replacingAFileIsARemovalAndAnAddition() throws {
        let plan = try plan(EditRequest(
            files: [File(destination: "/etc/hostname", source: .inline(Array("installer\n".utf8)))],
            symlinks: [.init(path: "/usr/bin/bash", target: "busybox")]))
        #expect(plan.removals == [.init(path: "etc/hostname", reason: .replacedByAddition),
                                  .init(path: "usr/bin/bash", reason: .replacedByAddition)])
        #expect(plan.additions.map(\.path) == ["etc/hostname", "usr/bin/bash"])
        #expect(plan.removes("etc/hostname"))
    }

    @Test func escapeThroughASymlinkIsRefused() throws {
        #expect(throws: EditPlanError.escapesRoot(entry: "/etc/evil/etc/shadow", link: "etc/evil", target: "../../..")) {
            try plan(EditRequest(files: [File(destination: "/etc/evil/etc/shadow", source: .inline([]))]))
        }
        #expect(throws: EditPlanError.escapesRoot(entry: "/etc/evil/x", link: "etc/evil", target: "../../..")) {
            try plan(EditRequest(directories: [.init(path: "/etc/evil/x")]))
        }
    }

    @Test func unsafeRequestedPathsAreRefused() throws {
        #expect(throws: EditPlanError.unsafePath(entry: "/usr/../etc/x", problem: .parentComponent)) {
            try plan(EditRequest(files: [File(destination: "/usr/../etc/x", source: .inline([]))]))
        }
        #expect(throws: EditPlanError.unsafePath(entry: "/", problem: .empty)) {
            try plan(EditRequest(symlinks: [.init(path: "/", target: "x")]))
        }
        #expect(throws: EditPlanError.invalidSymlinkTarget(path: "etc/x", target: "")) {
            try plan(EditRequest(symlinks: [.init(path: "/etc/x", target: "")]))
        }
    }

    @Test func directoriesAndFilesDoNotReplaceEachOther() throws {
        #expect(throws: EditPlanError.conflict(path: "usr/lib", message: "cannot replace a directory with a file")) {
            try plan(EditRequest(files: [File(destination: "/usr/lib", source: .inline([]))]))
        }
        #expect(throws: EditPlanError.conflict(path: "etc/hostname", message: "cannot add a directory: a regular file is there")) {
            try plan(EditRequest(directories: [.init(path: "/etc/hostname")]))
        }
        #expect(throws: EditPlanError.conflict(path: "bin", message: "a symlink to a directory (-> usr/bin); it is never replaced by a file")) {
            try plan(EditRequest(files: [File(destination: "/bin", source: .inline([]))]))
        }
        #expect(throws: EditPlanError.notADirectory(entry: "/etc/hostname/x", component: "etc/hostname")) {
            try plan(EditRequest(files: [File(destination: "/etc/hostname/x", source: .inline([]))]))
        }
        #expect(throws: EditPlanError.self) {
            try plan(EditRequest(files: [File(destination: "/opt/a", source: .inline([1])),
                                         File(destination: "/opt/a", source: .inline([2]))]))
        }
        #expect(throws: EditPlanError.conflict(path: "opt/a", message: "cannot replace a directory with a file")) {
            try plan(EditRequest(files: [File(destination: "/opt/a", source: .inline([1]))],
                                 directories: [.init(path: "/opt/a")]))
        }
        #expect(throws: EditPlanError.conflict(path: "usr/lib", message: "cannot replace a directory with a symlink")) {
            try plan(EditRequest(symlinks: [.init(path: "/usr/lib", target: "lib64")]))
        }
        #expect(throws: EditPlanError.conflict(path: "etc/systemd/system/caddy.service",
                                               message: "added by the request, and the mask of caddy.service")) {
            try plan(EditRequest(disableUnits: ["caddy"],
                                 files: [File(destination: "/etc/systemd/system/caddy.service", source: .inline([]))]))
        }
    }

    @Test func replacingAHardLinkedFileIsRefused() throws {
        var link = ArchiveEntry.file("usr/bin/sh", size: 0)
        link.hardlinkTarget = "usr/bin/bash"
        #expect(throws: EditPlanError.replacesHardlinkedFile(path: "usr/bin/bash")) {
            try plan(EditRequest(files: [File(destination: "/usr/bin/bash", source: .inline([]))]), extra: [(link, [])])
        }
    }

    // MARK: The plan as a value

    @Test func emptyRequestEmptyPlan() throws {
        let plan = try plan(EditRequest())
        #expect(plan == .empty)
        #expect(plan.isEmpty)
        #expect(plan.description == "no changes\n")
        #expect(EditRequest().isEmpty)
        #expect(!EditRequest.standard.isEmpty)
    }

    private var fullRequest: EditRequest {
        EditRequest(
            disableUnits: EditRequest.agentUnits + ["nosuch"],
            enableUnits: ["install-os"],
            files: [
                File(destination: "/bin/install-os", source: .hostFile(path: "/build/install-os", size: 1_234_567),
                     permissions: 0o755),
                File(destination: "/usr/lib/systemd/system/install-os.service", source: .inline(EditPlanFixture.installOSUnit)),
            ],
            directories: [.init(path: "/var/lib/emts", permissions: 0o700)],
            symlinks: [.init(path: "/etc/emts/release", target: "/usr/share/emts/release")],
            mtime: 1_700_000_000)
    }

    @Test func rendersOneLinePerChange() throws {
        let rendered = try plan(fullRequest).description
        #expect(rendered == """
            remove etc/systemd/system/multi-user.target.wants/caddy.service (enables caddy.service)
            remove etc/systemd/system/multi-user.target.wants/device-discovery.service (enables device-discovery.service)
            remove etc/systemd/system/multi-user.target.wants/fluent-bit.service (enables fluent-bit.service)
            remove etc/systemd/system/multi-user.target.wants/td-agent-bit.service (enables fluent-bit.service)
            remove etc/systemd/system/multi-user.target.wants/tink-worker.service (enables tink-worker.service)
            remove etc/systemd/system/provisioning.target.requires/tink-worker.service (enables tink-worker.service)
            remove etc/systemd/system/td-agent-bit.service (alias of fluent-bit.service)
            remove usr/lib/systemd/system/multi-user.target.wants/caddy.service (enables caddy.service)
            mkdir  etc/emts (0755 root:root)
            link   etc/emts/release -> /usr/share/emts/release
            mask   etc/systemd/system/caddy.service -> /dev/null
            mask   etc/systemd/system/device-discovery.service -> /dev/null
            mask   etc/systemd/system/fluent-bit.service -> /dev/null
            enable etc/systemd/system/multi-user.target.wants/install-os.service -> /usr/lib/systemd/system/install-os.service (install-os.service WantedBy=multi-user.target)
            mask   etc/systemd/system/nosuch.service -> /dev/null
            mask   etc/systemd/system/tink-worker.service -> /dev/null
            add    usr/bin/install-os (0755 root:root, 1234567 bytes; requested as /bin/install-os)
            add    usr/lib/systemd/system/install-os.service (0644 root:root, 170 bytes)
            mkdir  var (0755 root:root)
            mkdir  var/lib (0755 root:root)
            mkdir  var/lib/emts (0700 root:root)
            note   nosuch.service: not present in the rootfs; masked anyway, so it cannot start if it appears later

            """)
    }

    @Test func jsonRoundTrip() throws {
        let plan = try plan(fullRequest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(plan)
        let decoded = try JSONDecoder().decode(EditPlan.self, from: json)
        #expect(decoded == plan)
        #expect(decoded.removes("etc/systemd/system/td-agent-bit.service"))
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""hostFile":"\/build\/install-os","size":1234567"#))
        #expect(text.contains(#""inline":"W1VuaXRd"#))  // base64 of "[Unit]"

        let request = try JSONDecoder().decode(EditRequest.self, from: try encoder.encode(fullRequest))
        #expect(request == fullRequest)
        #expect(try JSONDecoder().decode(EditRequest.self, from: Data("{}".utf8)) == EditRequest())
    }

    @Test func additionsBecomeArchiveEntries() throws {
        let plan = try plan(fullRequest)
        let binary = try #require(plan.additions.first { $0.path == "usr/bin/install-os" }?.archiveEntry)
        #expect(binary == .file("usr/bin/install-os", size: 1_234_567, permissions: 0o755,
                                mtime: ArchiveTime(seconds: 1_700_000_000)))
        let mask = try #require(plan.additions.first { $0.path == "etc/systemd/system/caddy.service" }?.archiveEntry)
        #expect(mask == .symlink("etc/systemd/system/caddy.service", target: "/dev/null", mtime: ArchiveTime(seconds: 1_700_000_000)))
    }
}

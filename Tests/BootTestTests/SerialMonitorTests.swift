@testable import BootTest
import Testing

@Suite struct SerialMonitorTests {
    let expectation = BootExpectation(markers: ["READY", "AGENT tink"], overallTimeout: .seconds(100),
                                      silenceTimeout: .seconds(10))

    @Test func passesWhenEveryMarkerAppearedEvenAcrossChunks() {
        var monitor = SerialMonitor(expectation: expectation)
        #expect(monitor.feed(Array("boot\nAGENT ti".utf8), at: .seconds(1)) == nil)
        #expect(monitor.feed(Array("nk started\nRE".utf8), at: .seconds(2)) == nil)
        #expect(monitor.missing == ["READY"])
        #expect(monitor.feed(Array("ADY\n".utf8), at: .seconds(3)) == .passed)
        #expect(monitor.seen["AGENT tink"] == .seconds(2))
        #expect(monitor.seen["READY"] == .seconds(3))
    }

    @Test func failureStringFailsAtOnce() {
        var monitor = SerialMonitor(expectation: expectation)
        let verdict = monitor.feed(Array("[  5.1] Kernel panic - not syncing: VFS\n".utf8), at: .seconds(5))
        #expect(verdict == .failed(line: "[  5.1] Kernel panic - not syncing: VFS"))
    }

    @Test func aBareErrorIsNotAFailure() {
        var monitor = SerialMonitor(expectation: expectation)
        #expect(monitor.feed(Array("error: file `/boot/' not found.\n".utf8), at: .seconds(1)) == nil)
    }

    @Test func escapeSequencesAndCarriageReturnsAreIgnored() {
        var monitor = SerialMonitor(expectation: expectation)
        _ = monitor.feed(Array("\u{1B}[0;32m  OK  \u{1B}[0m] RE\rADY\r\n".utf8), at: .seconds(1))
        #expect(monitor.tail.last == "  OK  ] READY")
        #expect(monitor.seen["READY"] != nil)
    }

    @Test func silenceAndOverallTimeouts() {
        var monitor = SerialMonitor(expectation: expectation)
        _ = monitor.feed(Array("x\n".utf8), at: .seconds(5))
        #expect(monitor.check(at: .seconds(14)) == nil)
        #expect(monitor.check(at: .seconds(16)) == .silent)
        _ = monitor.feed(Array("y\n".utf8), at: .seconds(95))
        #expect(monitor.check(at: .seconds(101)) == .timedOut)
    }

    @Test func endOfStreamCountsTheUnterminatedLine() {
        var monitor = SerialMonitor(expectation: BootExpectation(markers: ["DONE"]))
        _ = monitor.feed(Array("DONE".utf8), at: .seconds(1))
        #expect(monitor.finish(at: .seconds(2)) == .passed)
        var other = SerialMonitor(expectation: BootExpectation(markers: ["DONE"]))
        _ = other.feed(Array("nothing\n".utf8), at: .seconds(1))
        #expect(other.finish(at: .seconds(2)) == .exited)
    }
}

@Suite struct BootMatrixTests {
    let check = MediumBootCheck(grubCommandLine: "BOOT_IMAGE=/boot/vmlinuz root=tmpfs emts.medium=ab",
                                signedCommandLine: "root=tmpfs emts.medium=ab", forbiddenUnits: ["caddy.service"])

    @Test func genericCheckPassesOnTheMediumsLineAndMultiUser() {
        var monitor = SerialMonitor(expectation: check.expectation(for: BootCell(firmware: .bios, media: .cd)))
        #expect(monitor.feed(Array("[    0.000000] Kernel command line: BOOT_IMAGE=/boot/vmlinuz root=tmpfs emts.medium=ab\n".utf8),
                             at: .seconds(1)) == nil)
        let status = "[\u{1B}[0;32m  OK  \u{1B}[0m] Reached target \u{1B}[0;1;39mmulti-user.target\u{1B}[0m - Multi-User System.\n"
        #expect(monitor.feed(Array(status.utf8), at: .seconds(30)) == .passed)
    }

    @Test func signedCellsExpectTheSignedLineAndAgentsFail() {
        var signed = SerialMonitor(expectation: check.expectation(for: BootCell(firmware: .uefiSnakeoil, media: .usb)))
        _ = signed.feed(Array("Kernel command line: BOOT_IMAGE=/boot/vmlinuz root=tmpfs emts.medium=ab\n".utf8), at: .seconds(1))
        #expect(signed.missing.contains("Kernel command line: root=tmpfs emts.medium=ab"))
        var agents = SerialMonitor(expectation: check.expectation(for: BootCell(firmware: .uefi, media: .disk)))
        let started = "[\u{1B}[0;32m  OK  \u{1B}[0m] Started \u{1B}[0;1;39mcaddy.service\u{1B}[0m - Caddy.\n"
        #expect(agents.feed(Array(started.utf8), at: .seconds(9)) == .failed(line: "[  OK  ] Started caddy.service - Caddy."))
    }

    @Test func cellNamesAndJUnit() {
        #expect(BootCell(firmware: .uefiSecure, media: .usb, target: .nvme).description == "uefi-secure-usb-nvme")
        let results = [
            BootCellResult(cell: BootCell(firmware: .bios, media: .cd), passed: true, outcome: "passed", seconds: 61,
                           log: "/l/bios-cd.log", detail: "ok"),
            BootCellResult(cell: BootCell(firmware: .uefi, media: .usb), passed: false, outcome: "timed out", seconds: 480,
                           log: "/l/uefi-usb.log", detail: "missing: <Reached> & \u{7}"),
        ]
        let xml = JUnitReport.xml(suite: "s", results: results)
        #expect(xml.contains("<testsuite name=\"s\" tests=\"2\" failures=\"1\" time=\"541.0\">"))
        #expect(xml.contains("<testcase classname=\"boot-test\" name=\"bios-cd\" time=\"61.0\">"))
        #expect(xml.contains("<failure message=\"timed out\">missing: &lt;Reached&gt; &amp; </failure>"))
        #expect(xml.components(separatedBy: "<testcase").count == 3)
    }
}

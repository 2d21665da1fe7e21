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

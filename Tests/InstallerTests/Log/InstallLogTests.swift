import Foundation
@testable import Installer
import Testing

private final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func add(_ line: String) { lock.withLock { stored.append(line) } }
    var all: [String] { lock.withLock { stored } }
}

@Suite struct InstallLogTests {
    @Test func echoesAndKeepsATimestampedTranscript() {
        let echoed = Lines()
        let log = InstallLog(now: { Date(timeIntervalSince1970: 1_738_324_800) }) { text, _ in echoed.add(text) }
        log.record("medium: /dev/sdb")
        log.record("two\nlines", level: .warning)
        log.record("no disk", level: .error)
        #expect(echoed.all == ["medium: /dev/sdb", "warning: two", "         lines", "error: no disk"])
        #expect(log.transcript == """
            2025-01-31T12:00:00Z medium: /dev/sdb
            2025-01-31T12:00:00Z warning: two
            2025-01-31T12:00:00Z          lines
            2025-01-31T12:00:00Z error: no disk

            """)
    }

    @Test func transcriptStaysBounded() {
        let log = InstallLog(limit: 64 << 10) { _, _ in }
        for index in 0 ..< 5000 { log.record("progress line \(index) " + String(repeating: "x", count: 40)) }
        let transcript = log.transcript
        #expect(transcript.utf8.count < 80 << 10)
        #expect(transcript.contains("progress line 0 "), "the start is kept")
        #expect(transcript.contains("progress line 4999 "), "the end is kept")
        #expect(transcript.contains("lines dropped to keep the log under 65536 bytes"))
    }
}

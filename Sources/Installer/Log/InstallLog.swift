import Foundation
import Logging

/// Everything install-os says during one run: echoed as it happens (to the journal and the consoles) and
/// kept as a timestamped transcript, saved to the medium's config partition at the end.
///
/// The transcript is bounded: past `limit` bytes, lines after the first `keptHeadLines` are dropped from
/// the middle (the start holds the decisions, the end the outcome), and the dropped count is noted.
public final class InstallLog: @unchecked Sendable {
    /// How much a message matters: errors and warnings are prefixed and go to standard error.
    public enum Level: Int, Sendable, Comparable {
        case info, warning, error

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public static let defaultLimit = 4 << 20
    static let keptHeadLines = 200

    private let lock = NSLock()
    private let echo: @Sendable (String, Level) -> Void
    private let now: @Sendable () -> Date
    private let limit: Int
    private var lines: [String] = []
    private var bytes = 0
    private var dropped = 0

    /// - Parameters:
    ///   - echo: receives every message line as it is logged, with its level (without a timestamp: the
    ///     journal adds its own).
    ///   - now: the wall clock for the transcript's timestamps.
    public init(limit: Int = InstallLog.defaultLimit, now: @escaping @Sendable () -> Date = { Date() },
                echo: @escaping @Sendable (String, Level) -> Void) {
        self.limit = max(limit, 1024)
        self.now = now
        self.echo = echo
    }

    /// A swift-log logger whose messages go to this log (notice and below as info, critical as error).
    public func logger(label: String = "install-os") -> Logger {
        Logger(label: label) { _ in InstallLogHandler(log: self) }
    }

    /// Records and echoes one message; `level` prefixes warnings and errors.
    public func record(_ message: String, level: Level = .info) {
        let prefix: String
        switch level {
        case .info: prefix = ""
        case .warning: prefix = "warning: "
        case .error: prefix = "error: "
        }
        let stamp = Self.timestamp(now())
        for (index, line) in message.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = index == 0 ? prefix + line : String(repeating: " ", count: prefix.count) + line
            echo(text, level)
            append("\(stamp) \(text)")
        }
    }

    /// The transcript so far, one timestamped line per message line.
    public var transcript: String {
        lock.withLock {
            var result = lines
            if dropped > 0 {
                result.insert("[... \(dropped) lines dropped to keep the log under \(limit) bytes ...]",
                              at: min(Self.keptHeadLines, result.count))
            }
            return result.map { $0 + "\n" }.joined()
        }
    }

    private func append(_ line: String) {
        lock.withLock {
            lines.append(line)
            bytes += line.utf8.count + 1
            while bytes > limit, lines.count > Self.keptHeadLines + 1 {
                bytes -= lines.remove(at: Self.keptHeadLines).utf8.count + 1
                dropped += 1
            }
        }
    }

    /// `2025-01-31T12:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// What a boot must show on its serial console, and how long it may take.
public struct BootExpectation: Sendable {
    /// Lines containing each of these must all appear, in any order, for the boot to pass.
    public var markers: [String]
    /// A line containing any of these fails the boot at once.
    public var failures: [String]
    /// The whole boot's limit.
    public var overallTimeout: Duration
    /// The longest the console may stay quiet (TCG's longest normal quiet gap is ~11 s; unpacking a
    /// gzip'd rootfs with busybox is ~16 s of silence).
    public var silenceTimeout: Duration

    /// Strings that mean a boot has failed, whatever else it printed. A bare "error:" is not one:
    /// Debian's signed GRUB prints a harmless "error: file `/boot/' not found" from USB.
    public static let knownFailures = [
        "Access Denied", "Security Violation", "bad shim signature",
        "you need to load the kernel first", "No bootable option", "Kernel panic",
    ]

    public init(markers: [String], failures: [String] = BootExpectation.knownFailures,
                overallTimeout: Duration = .seconds(420), silenceTimeout: Duration = .seconds(90)) {
        self.markers = markers
        self.failures = failures
        self.overallTimeout = overallTimeout
        self.silenceTimeout = silenceTimeout
    }
}

/// How a boot ended.
public enum BootOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Every marker appeared.
    case passed
    /// A failure string appeared; the line is attached.
    case failed(line: String)
    /// The overall timeout passed with markers still missing.
    case timedOut
    /// The console stayed quiet longer than the silence timeout.
    case silent
    /// QEMU exited before every marker appeared.
    case exited

    public var description: String {
        switch self {
        case .passed: "passed"
        case .failed(let line): "failed: \(line)"
        case .timedOut: "timed out"
        case .silent: "console went silent"
        case .exited: "machine stopped before every marker appeared"
        }
    }
}

/// Follows a serial console byte stream and decides the boot. Pure logic: time is passed in.
public struct SerialMonitor: Sendable {
    public let expectation: BootExpectation
    /// Each marker with the time since start at which it first appeared.
    public private(set) var seen: [String: Duration] = [:]
    /// Complete lines received so far (escape sequences and carriage returns removed).
    public private(set) var lineCount = 0
    /// The last lines, for failure reports.
    public private(set) var tail: [String] = []

    private var partial: [UInt8] = []
    private var lastActivity: Duration = .zero
    private let tailLength = 40

    public init(expectation: BootExpectation) {
        self.expectation = expectation
    }

    /// Feeds bytes received `elapsed` after the start; returns the outcome once the boot is decided.
    public mutating func feed(_ bytes: some Sequence<UInt8>, at elapsed: Duration) -> BootOutcome? {
        lastActivity = elapsed
        var verdict: BootOutcome?
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                verdict = verdict ?? finishLine(at: elapsed)
            } else if partial.count < 16_384 {
                partial.append(byte)
            }
        }
        return verdict
    }

    /// Decides on a timeout at `elapsed`, or nil while the boot may still pass.
    public func check(at elapsed: Duration) -> BootOutcome? {
        if elapsed - lastActivity > expectation.silenceTimeout { return .silent }
        if elapsed > expectation.overallTimeout { return .timedOut }
        return nil
    }

    /// Decides at the end of the stream (QEMU exited): the unterminated last line counts too.
    public mutating func finish(at elapsed: Duration) -> BootOutcome {
        if !partial.isEmpty, let verdict = finishLine(at: elapsed) { return verdict }
        return .exited
    }

    /// Markers that never appeared.
    public var missing: [String] { expectation.markers.filter { seen[$0] == nil } }

    private mutating func finishLine(at elapsed: Duration) -> BootOutcome? {
        let line = Self.clean(partial)
        partial.removeAll(keepingCapacity: true)
        lineCount += 1
        tail.append(line)
        if tail.count > tailLength { tail.removeFirst(tail.count - tailLength) }
        if let failure = expectation.failures.first(where: { line.contains($0) }) {
            _ = failure
            return .failed(line: line)
        }
        for marker in expectation.markers where seen[marker] == nil && line.contains(marker) {
            seen[marker] = elapsed
        }
        return missing.isEmpty ? .passed : nil
    }

    /// Text of a console line without ANSI escape sequences, carriage returns or other control bytes.
    static func clean(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x1B {
                // CSI: ESC [ parameters final-byte (0x40...0x7E); other escapes: skip one byte.
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
                    index += 1
                    while index < bytes.count, !(0x40 ... 0x7E).contains(bytes[index]) { index += 1 }
                }
                index += 1
                continue
            }
            if byte >= 0x20 || byte == 0x09 { out.append(byte) }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

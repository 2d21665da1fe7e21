/// Turns `WriteProgress` updates into what the operator sees: the percentage of the compressed image read,
/// the bytes written, the write rate and the time left.
///
/// On a terminal the line is redrawn in place (at most every `redrawInterval`); elsewhere (the journal, the
/// consoles under systemd) one line is printed every `interval` seconds. The rate and the time left come from
/// the last `window` seconds, so a slow start or a burst into the page cache does not skew them for long.
public final class ProgressReporter {
    /// How progress is shown.
    public enum Style: Sendable, Equatable {
        /// Redraw one line in place (`\r`): standard output is a terminal.
        case redraw
        /// One line every `interval` seconds.
        case lines(interval: Double)
    }

    public static let redrawInterval = 0.5
    public static let window = 10.0

    private let style: Style
    private let clock: () -> Double
    private let emit: (String) -> Void
    private let started: Double
    private var lastEmitted: Double
    private var samples: [(time: Double, compressed: UInt64, out: UInt64)] = []

    /// - Parameters:
    ///   - clock: monotonic seconds (injected in tests).
    ///   - emit: receives each progress text. For `.redraw` it is the line's new content (the console
    ///     prefixes `\r` and clears the rest of the line); for `.lines`, a whole line.
    public init(style: Style, clock: @escaping () -> Double, emit: @escaping (String) -> Void) {
        self.style = style
        self.clock = clock
        self.emit = emit
        started = clock()
        lastEmitted = started
    }

    /// Takes an update; emits when the style's interval has passed.
    public func update(_ progress: WriteProgress) {
        let now = clock()
        samples.append((now, progress.compressedRead, progress.bytesOut))
        while let first = samples.first, now - first.time > Self.window, samples.count > 2 { samples.removeFirst() }
        let due: Double
        switch style {
        case .redraw: due = Self.redrawInterval
        case .lines(let interval): due = interval
        }
        guard now - lastEmitted >= due else { return }
        lastEmitted = now
        emit(line(for: progress))
    }

    /// The progress line for `progress` with the current rates.
    public func line(for progress: WriteProgress) -> String {
        let rates = currentRates()
        let eta: Double? = rates.compressed.flatMap { rate in
            rate > 0 ? Double(progress.compressedTotal - min(progress.compressedRead, progress.compressedTotal)) / rate : nil
        }
        return Self.format(progress, bytesPerSecond: rates.out, secondsLeft: eta)
    }

    /// `" 42%  3.5 GB written  87.3 MB/s  ETA 0:19"`.
    public static func format(_ progress: WriteProgress, bytesPerSecond: Double?, secondsLeft: Double?) -> String {
        let percent = Int((progress.fraction * 100).rounded(.down))
        let percentText = String(repeating: " ", count: max(0, 3 - String(percent).count)) + "\(percent)%"
        let rate = bytesPerSecond.map { HumanUnits.rate(bytesPerSecond: $0) } ?? "-- MB/s"
        let eta = secondsLeft.map { HumanUnits.duration(seconds: $0) } ?? "--:--"
        return "\(percentText)  \(HumanUnits.bytes(progress.bytesOut)) written  \(rate)  ETA \(eta)"
    }

    /// The closing line, bytes written, time, average rate and verification:
    /// `"wrote 8.0 GB to /dev/sda in 1:32 (87.0 MB/s average) from emt.raw.gz (812.3 MB, gzip); sha256 verified"`.
    public static func summary(_ report: ImageWriteReport, image: OSImage) -> String {
        "wrote \(HumanUnits.bytes(report.bytesWritten)) to \(report.target) in "
            + "\(HumanUnits.duration(seconds: report.seconds)) (\(HumanUnits.rate(bytesPerSecond: report.bytesPerSecond)) "
            + "average) from \(image.name) (\(HumanUnits.bytes(report.compressedBytes)), \(image.compression.rawValue)); "
            + "sha256 verified (\(report.sha256))"
    }

    /// Seconds since the reporter was created.
    public var elapsed: Double { clock() - started }

    private func currentRates() -> (out: Double?, compressed: Double?) {
        guard let first = samples.first, let last = samples.last, last.time - first.time >= 0.5 else { return (nil, nil) }
        let seconds = last.time - first.time
        return (Double(last.out - first.out) / seconds, Double(last.compressed - first.compressed) / seconds)
    }
}

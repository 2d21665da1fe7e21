import Foundation

/// Sizes, rates and durations as people read them: decimal units (as disks are labelled), one decimal.
public enum HumanUnits {
    /// `512.1 GB`, `8.4 MB`, `900 B`.
    public static func bytes(_ count: UInt64) -> String {
        let value = Double(count)
        switch count {
        case 1_000_000_000_000...: return String(format: "%.1f TB", value / 1e12)
        case 1_000_000_000...: return String(format: "%.1f GB", value / 1e9)
        case 1_000_000...: return String(format: "%.1f MB", value / 1e6)
        case 1_000...: return String(format: "%.1f kB", value / 1e3)
        default: return "\(count) B"
        }
    }

    /// `87.3 MB/s`.
    public static func rate(bytesPerSecond: Double) -> String {
        guard bytesPerSecond.isFinite, bytesPerSecond >= 0 else { return "-- MB/s" }
        return String(format: "%.1f MB/s", bytesPerSecond / 1e6)
    }

    /// `0:07`, `12:34`, `1:02:03`.
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}

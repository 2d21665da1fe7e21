import Logging

/// A swift-log handler writing into an `InstallLog`.
struct InstallLogHandler: LogHandler {
    let log: InstallLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level: InstallLog.Level
        switch event.level {
        case .trace, .debug, .info, .notice: level = .info
        case .warning: level = .warning
        case .error, .critical: level = .error
        }
        log.record(event.message.description, level: level)
    }
}

/// The `target` setting: let the installer choose the disk, or name it.
public enum TargetSelector: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Choose by policy (`TargetPolicy`): NVMe first, then SATA/SAS, then the rest.
    case auto
    /// A disk named by the operator: a device path (`/dev/nvme0n1`, `/dev/disk/by-id/...`,
    /// `/dev/disk/by-path/...`) or a kernel name (`sda`).
    case device(String)

    /// Parses the setting's text.
    /// - Throws: a message when the text is neither `auto`, an absolute `/dev/` path, nor a bare device name.
    public init(parsing text: String) throws(TargetSelectorError) {
        let trimmed = text.trimmingWhitespace
        if trimmed == "auto" {
            self = .auto
            return
        }
        guard !trimmed.isEmpty else { throw TargetSelectorError(text: text, reason: "empty; give \"auto\" or a disk") }
        guard !trimmed.contains(where: { $0.isWhitespace || $0 == "\0" }) else {
            throw TargetSelectorError(text: text, reason: "contains white space")
        }
        if trimmed.hasPrefix("/") {
            guard trimmed.hasPrefix("/dev/"), trimmed.count > 5 else {
                throw TargetSelectorError(text: text, reason: "a device path must be under /dev/")
            }
            guard !trimmed.split(separator: "/").contains("..") else {
                throw TargetSelectorError(text: text, reason: "a device path must not contain \"..\"")
            }
        } else if trimmed.contains("/") {
            throw TargetSelectorError(text: text,
                                      reason: "give \"auto\", a /dev/ path, or a kernel device name such as sda")
        }
        self = .device(trimmed)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try TargetSelector(parsing: text)
        } catch {
            throw container.invalid(error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .device(let name): name
        }
    }
}

/// A `target` text that names no disk.
public struct TargetSelectorError: Error, CustomStringConvertible, Sendable, Equatable {
    public var text: String
    public var reason: String

    public var description: String { "\"\(text)\": \(reason)" }
}

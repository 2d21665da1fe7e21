/// A libparted failure: the operation, the device or image path, and the messages libparted raised.
public struct PartedError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The operation that failed.
    public enum Operation: String, Sendable {
        case openDevice = "opening the device"
        case readPartitionTable = "reading the partition table"
        case createPartitionTable = "creating a partition table"
        case addPartition = "adding a partition"
        case removePartition = "removing a partition"
        case setPartitionName = "naming a partition"
        case setPartitionFlag = "setting a partition flag"
        case commit = "writing the partition table"
        case relocateBackupGPT = "moving the backup GPT to the end of the disk"
    }

    /// Why it failed, for callers that react differently to different causes.
    public enum Reason: Sendable, Equatable {
        /// libparted recognised no partition table on the device.
        case noPartitionTable
        /// The request does not fit the table type or libparted (unknown name, flag not available, ...).
        case unsupported
        /// A libparted call returned failure; `messages` carries what it said.
        case libraryFailure
    }

    /// The operation that failed.
    public var operation: Operation
    /// The device or image file concerned.
    public var path: String
    /// Why it failed.
    public var reason: Reason
    /// The return code of the failing libparted call (libparted returns 0 or NULL on failure).
    public var code: Int32
    /// The exception texts libparted raised during the operation, oldest first (may be empty).
    public var messages: [String]
    /// The wrapper's own explanation, used when libparted said nothing.
    public var detail: String

    public init(operation: Operation, path: String, reason: Reason = .libraryFailure, code: Int32 = 0,
                messages: [String] = [], detail: String = "") {
        self.operation = operation
        self.path = path
        self.reason = reason
        self.code = code
        self.messages = messages
        self.detail = detail
    }

    /// libparted's last message, or the wrapper's explanation.
    public var message: String {
        let said = messages.last.map { $0.trimmingTrailingWhitespace } ?? ""
        switch (detail.isEmpty, said.isEmpty) {
        case (false, false): return "\(detail) (libparted: \(said))"
        case (false, true): return detail
        case (true, false): return said
        case (true, true): return "libparted call failed"
        }
    }

    public var description: String { "\(path): \(operation.rawValue): \(message)" }
}

extension String {
    var trimmingTrailingWhitespace: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

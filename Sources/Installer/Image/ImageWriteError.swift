/// Writing the image failed. Says what failed on which device and whether the disk was left without a
/// partition table (so it never boots a half-written system).
public struct ImageWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Problem: Sendable, Equatable {
        /// The image could not be read, decoded or verified.
        case image(ImageError)
        /// An I/O failure on the target.
        case target(String)
        /// The image does not fit the target.
        case imageLargerThanTarget(capacity: UInt64, reason: String)
        /// A step after the verified write (backup GPT, partition table re-read) failed; the image is intact.
        case finishing(step: String, reason: String)
    }

    /// What became of the target's partition tables after the failure.
    public enum Wipe: Sendable, Equatable {
        /// The failure came after the image was written and verified: nothing was wiped.
        case notNeeded
        /// The first and last MiB were zeroed.
        case wiped
        /// Zeroing them failed too.
        case failed(String)
    }

    /// The target device or file.
    public var target: String
    public var problem: Problem
    public var wipe: Wipe

    public init(target: String, problem: Problem, wipe: Wipe) {
        self.target = target
        self.problem = problem
        self.wipe = wipe
    }

    /// True when the image itself is at fault (damaged, truncated, checksum mismatch): exit code 5.
    public var isVerificationFailure: Bool {
        if case .image = problem { return true }
        return false
    }

    public var description: String {
        var text: String
        switch problem {
        case .image(let error):
            text = "writing the image to \(target) failed: \(error)"
        case .target(let reason):
            text = "\(target): \(reason)"
        case .imageLargerThanTarget(let capacity, let reason):
            text = "\(target): the image does not fit the \(HumanUnits.bytes(capacity)) disk (\(reason))"
        case .finishing(let step, let reason):
            text = "\(target): the image was written and verified, but \(step) failed: \(reason)"
        }
        switch wipe {
        case .notNeeded:
            break
        case .wiped:
            text += "; the first and last MiB of \(target) were zeroed, so it holds no partition table and will not "
                + "boot a half-written system"
        case .failed(let reason):
            text += "; zeroing the partition tables of \(target) failed too (\(reason)): do not boot from this disk"
        }
        return text
    }
}

import Foundation
import Glibc

/// Limits how many test machines run at once on this host, across processes.
///
/// Two single-vCPU TCG guests run side by side on two cores at no loss; a third slows all of them. Each
/// slot is a lock file held with `flock`, so the limit holds for concurrent tests and separate commands
/// alike, and a crashed holder releases its slot automatically.
public struct VMSlots: Sendable {
    public let directory: String
    public let count: Int

    /// The host-wide default: `EMTS_VM_SLOTS` slots (2 unless set) under the system temp directory.
    public static var shared: VMSlots {
        let env = ProcessInfo.processInfo.environment
        let count = env["EMTS_VM_SLOTS"].flatMap(Int.init) ?? 2
        return VMSlots(directory: "/tmp/emts-iso-vm-slots", count: max(1, count))
    }

    public init(directory: String, count: Int) {
        self.directory = directory
        self.count = count
    }

    /// Waits for a free slot, runs `body`, and frees the slot.
    public func withSlot<T>(_ body: () async throws -> T) async throws -> T {
        let descriptor = try await acquire()
        defer { close(descriptor) }
        return try await body()
    }

    private func acquire() async throws -> Int32 {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        while true {
            for slot in 0 ..< count {
                let path = "\(directory)/slot-\(slot).lock"
                let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
                guard descriptor >= 0 else {
                    throw BootTestError.qemu("cannot open VM slot lock \(path): \(String(cString: strerror(errno)))")
                }
                if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return descriptor }
                close(descriptor)
            }
            try await Task.sleep(for: .milliseconds(300))
        }
    }
}

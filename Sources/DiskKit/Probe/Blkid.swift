import CBlkid
import Glibc

/// Low-level probing with libblkid: filesystem superblocks and partition tables of files and devices.
public enum Blkid {
    /// Probes `path` (a regular file or a block device), optionally only the byte range `window`.
    ///
    /// Finding nothing is not an error: the report is then empty. The probe is read-only.
    /// - Throws: `BlkidError` naming `path` when it cannot be opened or read, or when libblkid finds
    ///   conflicting signatures (an ambivalent probe, which no caller should guess about).
    public static func probe(_ path: String, window: ProbeWindow? = nil) throws(BlkidError) -> ProbeReport {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BlkidError.fromErrno(.open, path: path, fallback: "cannot open")
        }
        defer { close(fd) }

        guard let probe = blkid_new_probe() else {
            throw BlkidError.fromErrno(.createProbe, path: path, fallback: "out of memory")
        }
        defer { blkid_free_probe(probe) }

        let offset = window?.offset ?? 0
        let size = window?.size ?? 0
        guard offset <= UInt64(Int64.max), size <= UInt64(Int64.max) else {
            throw BlkidError(operation: .setWindow, path: path, message: "window \(offset)+\(size) out of range")
        }
        Glibc.errno = 0
        let windowRC = blkid_probe_set_device(probe, fd, blkid_loff_t(offset), blkid_loff_t(size))
        guard windowRC == 0 else {
            throw BlkidError.fromErrno(.setWindow, path: path, code: windowRC,
                                       fallback: "cannot use window \(offset)+\(size)")
        }

        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, emts_blkid_superblock_flags)
        blkid_probe_enable_partitions(probe, 1)
        blkid_probe_set_partitions_flags(probe, emts_blkid_partition_flags)

        Glibc.errno = 0
        let probeRC = blkid_do_safeprobe(probe)
        var values: [String: String] = [:]
        switch probeRC {
        case 0:
            values = readValues(probe)
        case 1:
            break
        case -2:
            throw BlkidError(operation: .probe, path: path, code: probeRC,
                             message: "conflicting signatures found (ambivalent probe); wipe the stale one first")
        default:
            throw BlkidError.fromErrno(.probe, path: path, code: probeRC, fallback: "libblkid probe failed")
        }

        return ProbeReport(path: path, window: window, values: values, partitionTable: readPartitionTable(probe))
    }

    private static func readValues(_ probe: blkid_probe) -> [String: String] {
        var values: [String: String] = [:]
        let count = blkid_probe_numof_values(probe)
        guard count > 0 else { return values }
        for index in 0..<count {
            var name: UnsafePointer<CChar>?
            var data: UnsafePointer<CChar>?
            var length = 0
            guard blkid_probe_get_value(probe, index, &name, &data, &length) == 0,
                  let name, let data else { continue }
            values[String(cString: name)] = String(cString: data)
        }
        return values
    }

    // blkid_probe_get_partitions runs the partitions chain on its own; nil means no table (the safe
    // probe before it has already surfaced read errors).
    private static func readPartitionTable(_ probe: blkid_probe) -> ProbedPartitionTable? {
        guard let list = blkid_probe_get_partitions(probe),
              let table = blkid_partlist_get_table(list),
              let type = blkid_parttable_get_type(table) else { return nil }
        let isGPT = String(cString: type) == "gpt"
        var partitions: [ProbedPartition] = []
        let count = blkid_partlist_numof_partitions(list)
        if count > 0 {
            for index in 0..<count {
                guard let entry = blkid_partlist_get_partition(list, index) else { continue }
                let name = blkid_partition_get_name(entry).map { String(cString: $0) }
                partitions.append(ProbedPartition(
                    number: Int(blkid_partition_get_partno(entry)),
                    start: UInt64(max(0, blkid_partition_get_start(entry))),
                    size: UInt64(max(0, blkid_partition_get_size(entry))),
                    mbrType: isGPT ? 0 : UInt8(truncatingIfNeeded: blkid_partition_get_type(entry)),
                    typeGUID: isGPT ? blkid_partition_get_type_string(entry).map { String(cString: $0).lowercased() } : nil,
                    uuid: blkid_partition_get_uuid(entry).map { String(cString: $0) },
                    name: name?.isEmpty == false ? name : nil,
                    flags: UInt64(blkid_partition_get_flags(entry))))
            }
        }
        return ProbedPartitionTable(type: String(cString: type),
                                    id: blkid_parttable_get_id(table).map { String(cString: $0) },
                                    partitions: partitions)
    }
}

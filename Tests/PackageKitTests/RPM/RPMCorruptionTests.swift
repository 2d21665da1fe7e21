import Foundation
@testable import PackageKit
import PackageFixtures
import Testing

/// Where the parts of an .rpm lie, computed independently of the reader to aim the damage.
struct RPMLayout {
    var mainHeader: Int
    var mainEntries: Int
    var mainStore: Int

    init(_ bytes: [UInt8]) {
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        let signatureEnd = 96 + 16 + be32(96 + 8) * 16 + be32(96 + 12)
        mainHeader = signatureEnd + (8 - signatureEnd % 8) % 8
        mainEntries = be32(mainHeader + 8)
        mainStore = be32(mainHeader + 12)
    }

    var firstIndexEntry: Int { mainHeader + 16 }
    var payload: Int { mainHeader + 16 + mainEntries * 16 + mainStore }

    /// The offset of the index entry for `tag` in the main header.
    func indexEntry(for tag: Int, in bytes: [UInt8]) -> Int? {
        (0 ..< mainEntries).map { firstIndexEntry + $0 * 16 }.first { offset in
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]) == tag
        }
    }
}

func setBigEndian32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
    for index in 0 ..< 4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index)) }
}

@Suite struct RPMCorruptionTests {
    /// Builds one package, damages a copy with `damage`, and returns the error reading it gives.
    private func error(_ damage: (inout [UInt8], RPMLayout) -> Void, readPayload: Bool = false) throws -> PackageError {
        let scratch = try Scratch()
        let original = try scratch.read(try alphaFixture(payload: .gzip).build(in: scratch))
        var bytes = original
        damage(&bytes, RPMLayout(original))
        let path = try scratch.write("damaged.rpm", bytes)
        return namedError(reading: path) { () throws(PackageError) in
            let package = try RPMPackage(path: path)
            if readPayload { try drain(try package.payload()) }
        }
    }

    @Test func flippedLeadMagic() throws {
        let error = try error { bytes, _ in bytes[0] ^= 0xFF }
        guard case .notAPackage(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("ed ab ee db"))
    }

    @Test func flippedHeaderMagic() throws {
        let error = try error { bytes, layout in bytes[layout.mainHeader + 1] ^= 0xFF }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("main header") && reason.contains("magic"))
    }

    @Test func cutInsideTheLead() throws {
        let error = try error { bytes, _ in bytes.removeLast(bytes.count - 40) }
        guard case .truncated = error else { Issue.record("\(error)"); return }
    }

    @Test func cutInsideTheMainHeader() throws {
        let error = try error { bytes, layout in bytes.removeLast(bytes.count - (layout.mainHeader + 16 + 40)) }
        guard case .truncated(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("main header"))
    }

    @Test func cutInsideThePayload() throws {
        let error = try error { bytes, layout in bytes.removeLast((bytes.count - layout.payload) / 2) }
        guard case .truncated(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("signature"))
    }

    @Test func headerClaimingMoreThanTheFileHolds() throws {
        let error = try error { bytes, layout in
            setBigEndian32(UInt32(layout.mainStore + 1_000_000), at: layout.mainHeader + 12, in: &bytes)
        }
        guard case .truncated(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("claims"))
    }

    @Test func headerClaimingAbsurdSizes() throws {
        let entries = try error { bytes, layout in setBigEndian32(0x00FF_FFFF, at: layout.mainHeader + 8, in: &bytes) }
        guard case .corrupt(_, let reason) = entries else { Issue.record("\(entries)"); return }
        #expect(reason.contains("index entries"))
        let store = try error { bytes, layout in setBigEndian32(0xFFFF_FFF0, at: layout.mainHeader + 12, in: &bytes) }
        guard case .corrupt = store else { Issue.record("\(store)"); return }
    }

    @Test func indexEntryOffsetOutsideTheStore() throws {
        let error = try error { bytes, layout in
            let entry = layout.indexEntry(for: 1000, in: bytes) ?? layout.firstIndexEntry
            setBigEndian32(UInt32(layout.mainStore + 64), at: entry + 8, in: &bytes)
        }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("outside"))
    }

    @Test func indexEntryNegativeOffset() throws {
        let error = try error { bytes, layout in
            let entry = layout.indexEntry(for: 1000, in: bytes) ?? layout.firstIndexEntry
            setBigEndian32(0xFFFF_FF00, at: entry + 8, in: &bytes)
        }
        guard case .corrupt = error else { Issue.record("\(error)"); return }
    }

    @Test func countThatOverflows() throws {
        // FILEMODES (int16): 0x7fffffff values of 2 bytes cannot fit; FILESIZES (int32) times 4 wraps 32 bits.
        for tag in [1030, 1028] {
            let error = try error { bytes, layout in
                guard let entry = layout.indexEntry(for: tag, in: bytes) else { return }
                setBigEndian32(tag == 1030 ? 0x7FFF_FFFF : 0x4000_0001, at: entry + 12, in: &bytes)
            }
            guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("overflow"))
        }
    }

    @Test func stringArrayCountBeyondTheStore() throws {
        // BASENAMES (string array) claiming a million strings.
        let error = try error { bytes, layout in
            guard let entry = layout.indexEntry(for: 1117, in: bytes) else { return }
            setBigEndian32(1_000_000, at: entry + 12, in: &bytes)
        }
        guard case .corrupt = error else { Issue.record("\(error)"); return }
    }

    @Test func unknownEntryType() throws {
        let error = try error { bytes, layout in setBigEndian32(77, at: layout.firstIndexEntry + 4, in: &bytes) }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("unknown type 77"))
    }

    @Test func wrongTypeForATag() throws {
        // NAME as an int32: every byte of the store is still in range, but the tag is not a string.
        let error = try error { bytes, layout in
            guard let entry = layout.indexEntry(for: 1000, in: bytes) else { return }
            setBigEndian32(4, at: entry + 4, in: &bytes)
            setBigEndian32(0, at: entry + 8, in: &bytes)
        }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("NAME"))
    }

    @Test func damagedPayloadFailsWhileStreaming() throws {
        let error = try error({ bytes, layout in
            for offset in stride(from: layout.payload + 20, to: bytes.count - 8, by: 3) { bytes[offset] ^= 0x5A }
        }, readPayload: true)
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.hasPrefix("payload"))
    }

    @Test func payloadThatIsNotWhatTheHeaderSays() throws {
        let error = try error { bytes, layout in
            bytes[layout.payload] = 0xFD
            bytes[layout.payload + 1] = 0x37
        }
        guard case .corrupt(_, let reason) = error else { Issue.record("\(error)"); return }
        #expect(reason.contains("gzip"))
    }

    @Test func emptyAndMissingFiles() throws {
        let scratch = try Scratch()
        let empty = try scratch.write("empty.rpm", [])
        #expect(throws: PackageError.self) { try RPMPackage(path: empty) }
        let missing = scratch.path("missing.rpm")
        #expect {
            try RPMPackage(path: missing)
        } throws: { error in
            guard let error = error as? PackageError, case .unreadable(let path, _) = error else { return false }
            return path == missing
        }
    }
}

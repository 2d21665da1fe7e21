@testable import Installer
import Testing

@Suite struct ProgressReporterTests {
    @Test func formatsALine() {
        let progress = WriteProgress(compressedRead: 420, compressedTotal: 1000, bytesOut: 3_500_000_000)
        #expect(ProgressReporter.format(progress, bytesPerSecond: 87_300_000, secondsLeft: 19)
            == " 42%  3.5 GB written  87.3 MB/s  ETA 0:19")
        #expect(ProgressReporter.format(WriteProgress(compressedRead: 0, compressedTotal: 1000, bytesOut: 0),
                                        bytesPerSecond: nil, secondsLeft: nil)
            == "  0%  0 B written  -- MB/s  ETA --:--")
        #expect(ProgressReporter.format(WriteProgress(compressedRead: 1000, compressedTotal: 1000, bytesOut: 8_000_000_000),
                                        bytesPerSecond: 120_000_000, secondsLeft: 3725)
            == "100%  8.0 GB written  120.0 MB/s  ETA 1:02:05")
    }

    @Test func printsALineEveryIntervalWithRatesFromTheClock() {
        let clock = ManualClock(100)
        var lines: [String] = []
        let reporter = ProgressReporter(style: .lines(interval: 5), clock: clock.function) { lines.append($0) }
        let total: UInt64 = 100_000_000
        // 2 MB of image read and 10 MB written per second.
        for second in 1 ... 12 {
            clock.now = 100 + Double(second)
            reporter.update(WriteProgress(compressedRead: UInt64(second) * 2_000_000, compressedTotal: total,
                                          bytesOut: UInt64(second) * 10_000_000))
        }
        #expect(lines == [
            " 10%  50.0 MB written  10.0 MB/s  ETA 0:45",
            " 20%  100.0 MB written  10.0 MB/s  ETA 0:40",
        ])
        #expect(reporter.elapsed == 12)
    }

    @Test func redrawsAtMostTwiceASecond() {
        let clock = ManualClock(0)
        var texts: [String] = []
        let reporter = ProgressReporter(style: .redraw, clock: clock.function) { texts.append($0) }
        for tenth in 1 ... 20 {
            clock.now = Double(tenth) / 10
            reporter.update(WriteProgress(compressedRead: UInt64(tenth), compressedTotal: 20, bytesOut: UInt64(tenth) * 1_000_000))
        }
        #expect(texts.count == 4)
        #expect(texts.last?.hasPrefix("100%  20.0 MB written  10.0 MB/s  ETA 0:00") == true)
    }

    @Test func summaryLine() {
        let image = OSImage(name: "emt.raw.gz", path: "/m/images/emt.raw.gz", compression: .gzip,
                            compressedBytes: 812_300_000, expectedSHA256: "ab", checksumPath: "/m/images/emt.raw.gz.sha256")
        let report = ImageWriteReport(target: "/dev/nvme0n1", bytesWritten: 8_000_000_000, compressedBytes: 812_300_000,
                                      sha256: "ab", seconds: 92, backupGPTMoved: true, partitionTableReread: true,
                                      warnings: [])
        #expect(ProgressReporter.summary(report, image: image)
            == "wrote 8.0 GB to /dev/nvme0n1 in 1:32 (87.0 MB/s average) from emt.raw.gz (812.3 MB, gzip); sha256 verified (ab)")
    }

    @Test func humanUnits() {
        #expect(HumanUnits.bytes(999) == "999 B")
        #expect(HumanUnits.bytes(1_500) == "1.5 kB")
        #expect(HumanUnits.bytes(256_060_514_304) == "256.1 GB")
        #expect(HumanUnits.bytes(2_000_398_934_016) == "2.0 TB")
        #expect(HumanUnits.duration(seconds: 59.6) == "1:00")
        #expect(HumanUnits.duration(seconds: .infinity) == "--:--")
    }
}

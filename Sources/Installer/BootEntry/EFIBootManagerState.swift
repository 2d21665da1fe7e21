/// The UEFI boot entries and boot order as `efibootmgr` (or `efibootmgr -v`) prints them.
///
/// Understood lines: `BootCurrent: 0001`, `BootNext: 0003`, `BootOrder: 0001,0000`, and one
/// `Boot####[*] <label>[<TAB><device path>]` per entry (`*` marks an active entry). Versions before 17
/// separate the label from the device path by a space; the path is then recognised by its first node
/// (`HD(`, `PciRoot(`, `FvVol(`, ...). Other lines (`Timeout:`, `dp:` dumps) are ignored.
public struct EFIBootManagerState: Sendable, Equatable, Encodable {
    /// One `Boot####` variable.
    public struct Entry: Sendable, Equatable, Encodable {
        /// Four upper-case hex digits (`0003`).
        public var number: String
        public var label: String
        public var active: Bool
        /// The device path (with `-v`), such as `HD(1,GPT,...)/File(\EFI\BOOT\BOOTX64.EFI)`.
        public var devicePath: String?

        public init(number: String, label: String, active: Bool, devicePath: String? = nil) {
            self.number = number
            self.label = label
            self.active = active
            self.devicePath = devicePath
        }
    }

    public var bootCurrent: String?
    public var bootNext: String?
    public var bootOrder: [String]
    public var entries: [Entry]

    public init(bootCurrent: String? = nil, bootNext: String? = nil, bootOrder: [String] = [], entries: [Entry] = []) {
        self.bootCurrent = bootCurrent
        self.bootNext = bootNext
        self.bootOrder = bootOrder
        self.entries = entries
    }

    /// Device path nodes that start the path when no tab separates it from the label.
    static let devicePathStarts = ["HD(", "PciRoot(", "Pci(", "FvVol(", "Fv(", "VenHw(", "VenMedia(", "BBS(", "MAC(",
                                   "Acpi(", "MemoryMapped(", "File(", "Uri(", "NVMe(", "Sata(", "USB(", "VenMsg("]

    /// Parses efibootmgr's output.
    public init(parsing text: String) {
        self.init()
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = String(rawLine)
            if let value = Self.value(of: "BootCurrent", in: line) {
                bootCurrent = value.uppercased()
            } else if let value = Self.value(of: "BootNext", in: line) {
                bootNext = value.uppercased()
            } else if let value = Self.value(of: "BootOrder", in: line) {
                bootOrder = value.split(separator: ",").map { String($0).trimmingWhitespace.uppercased() }.filter { !$0.isEmpty }
            } else if let entry = Self.entry(line) {
                entries.append(entry)
            }
        }
    }

    /// The entries labelled `label`.
    public func entries(labelled label: String) -> [Entry] { entries.filter { $0.label == label } }

    private static func value(of key: String, in line: String) -> String? {
        guard line.hasPrefix(key + ":") else { return nil }
        return String(line.dropFirst(key.count + 1)).trimmingWhitespace
    }

    private static func entry(_ line: String) -> Entry? {
        let characters = Array(line)
        guard characters.count >= 8, line.hasPrefix("Boot"),
              characters[4 ..< 8].allSatisfy(\.isHexDigit) else { return nil }
        let number = String(characters[4 ..< 8]).uppercased()
        var rest = characters[8...]
        var active = false
        if rest.first == "*" {
            active = true
            rest = rest.dropFirst()
        }
        // "Boot0001* Label": one space after the marker (or in its place when inactive).
        guard rest.first == " " || rest.isEmpty else { return nil }
        var text = String(rest.dropFirst())
        var devicePath: String?
        if let tab = text.firstIndex(of: "\t") {
            devicePath = String(text[text.index(after: tab)...]).trimmingWhitespace
            text = String(text[..<tab])
        } else if let start = devicePathStarts.compactMap({ text.range(of: " " + $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            devicePath = String(text[text.index(after: start.lowerBound)...]).trimmingWhitespace
            text = String(text[..<start.lowerBound])
        }
        return Entry(number: number, label: text.trimmingWhitespace, active: active,
                     devicePath: devicePath?.isEmpty == true ? nil : devicePath)
    }
}

import Foundation

extension ProvisionSession {
    static let dhcpNetworkFile = "/etc/systemd/network/99-dhcp-en.network"
    static let staticNetworkFile = "/etc/systemd/network/10-emts-static.network"

    func applyNetwork(_ network: NetworkProfile) throws(ProvisionError) {
        switch network {
        case .unchanged:
            return
        case .dhcp(let match):
            let path = Self.dhcpNetworkFile
            if let text = try target.readText(path) {
                // The image's file: pin it (Name= -> MACAddress=, as today's flow does); keep the rest.
                guard let match else { return }
                var file = NetworkdFile(text: text)
                file.setMatch(match.matchLine)
                if file.values(of: "DHCP", in: "Network").isEmpty { file.set("DHCP", "yes", in: "Network") }
                try write(path, file.text, summary: "DHCP on \(match.matchLine)")
            } else {
                let line = match?.matchLine ?? "Name=en*"
                try write(path, "# Written by install-os.\n[Match]\n\(line)\n\n[Network]\nDHCP=yes\n",
                          summary: "DHCP on \(line)")
            }
        case .staticAddress(let settings):
            var lines = ["# Written by install-os.", "[Match]", settings.match.matchLine, "", "[Network]",
                         "Address=\(settings.address)"]
            if let gateway = settings.gateway { lines.append("Gateway=\(gateway)") }
            lines += settings.dns.map { "DNS=\($0)" }
            try write(Self.staticNetworkFile, lines.map { $0 + "\n" }.joined(),
                      summary: "static \(settings.address)"
                        + (settings.gateway.map { " via \($0)" } ?? "") + " on \(settings.match.matchLine)")
        }
        // The files take effect only through systemd-networkd: an image that leaves it disabled (a minimal
        // Debian) would ignore them. Enabling an enabled unit changes nothing.
        try enableUnit("systemd-networkd.service")
    }
}

/// A systemd INI file (`.network`), line by line, edited by section.
struct NetworkdFile {
    private(set) var lines: [String]

    init(text: String) {
        lines = FileLines.split(text)
    }

    var text: String { FileLines.join(lines) }

    /// The section each line belongs to (`nil` before the first header).
    private var sections: [String?] {
        var current: String?
        return lines.map { line in
            let trimmed = line.trimmingWhitespace
            if trimmed.hasPrefix("["), trimmed.hasSuffix("]") { current = String(trimmed.dropFirst().dropLast()) }
            return current
        }
    }

    private static func key(_ line: String) -> String? {
        let trimmed = line.trimmingWhitespace
        guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix(";"), let equals = trimmed.firstIndex(of: "=") else { return nil }
        return String(trimmed[..<equals]).trimmingWhitespace
    }

    func values(of key: String, in section: String) -> [String] {
        zip(lines, sections).compactMap { line, owner in
            guard owner == section, Self.key(line) == key, let equals = line.firstIndex(of: "=") else { return nil }
            return String(line[line.index(after: equals)...]).trimmingWhitespace
        }
    }

    /// Replaces every `Name=` and `MACAddress=` of `[Match]` by `line`, at the first one's place; adds a
    /// `[Match]` section at the top when there is none.
    mutating func setMatch(_ line: String) {
        let owners = sections
        let matchKeys: Set<String> = ["Name", "MACAddress", "PermanentMACAddress"]
        let positions = lines.indices.filter { owners[$0] == "Match" && Self.key(lines[$0]).map { matchKeys.contains($0) } == true }
        if let first = positions.first {
            lines[first] = line
            for index in positions.dropFirst().reversed() { lines.remove(at: index) }
        } else if let header = lines.indices.first(where: { owners[$0] == "Match" }) {
            lines.insert(line, at: header + 1)
        } else {
            lines.insert(contentsOf: ["[Match]", line, ""], at: 0)
        }
    }

    /// Sets `key=value` in `section` (replacing the first such line, or adding it at the section's end; the
    /// section is appended when missing).
    mutating func set(_ key: String, _ value: String, in section: String) {
        let owners = sections
        if let index = lines.indices.first(where: { owners[$0] == section && Self.key(lines[$0]) == key }) {
            lines[index] = "\(key)=\(value)"
        } else if let last = lines.indices.last(where: { owners[$0] == section && !lines[$0].trimmingWhitespace.isEmpty }) {
            lines.insert("\(key)=\(value)", at: last + 1)
        } else {
            if let last = lines.last, !last.trimmingWhitespace.isEmpty { lines.append("") }
            lines += ["[\(section)]", "\(key)=\(value)"]
        }
    }
}

/// The network interface the µOS reached the network with: the one of the default route.
public struct InstallingNIC: Sendable, Equatable {
    /// The kernel's name (`enp1s0`).
    public var interface: String
    /// Lower-case, colon-separated.
    public var macAddress: String

    public init(interface: String, macAddress: String) {
        self.interface = interface
        self.macAddress = macAddress
    }

    /// The NIC of the IPv4 default route with the lowest metric (`/proc/net/route`), else of the IPv6 one
    /// (`/proc/net/ipv6_route`), and its address (`/sys/class/net/<if>/address`); `nil` when there is no
    /// default route or the interface has no usable MAC address.
    public static func find(_ paths: HostPaths) -> InstallingNIC? {
        let candidates = defaultRouteInterfaces(ipv4: SysfsFiles.contents(paths.proc + "/net/route") ?? "",
                                                ipv6: SysfsFiles.contents(paths.proc + "/net/ipv6_route") ?? "")
        for interface in candidates {
            guard !interface.contains("/"), interface != ".", interface != "..",
                  let address = SysfsFiles.text(paths.sysfs + "/class/net/\(interface)/address")?.lowercased(),
                  Validation.isMAC(address), address != "00:00:00:00:00:00" else { continue }
            return InstallingNIC(interface: interface, macAddress: address)
        }
        return nil
    }

    /// Interfaces with a default route, best first: IPv4 by metric, then IPv6 by metric.
    static func defaultRouteInterfaces(ipv4: String, ipv6: String) -> [String] {
        var routes4: [(metric: UInt64, interface: String)] = []
        for line in ipv4.split(separator: "\n").dropFirst() {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 8, fields[1] == "00000000", fields[7] == "00000000",
                  let flags = UInt32(fields[3], radix: 16), flags & 0x1 != 0, let metric = UInt64(fields[6]) else { continue }
            routes4.append((metric, fields[0]))
        }
        var routes6: [(metric: UInt64, interface: String)] = []
        for line in ipv6.split(separator: "\n") {
            // destination prefix source prefix next-hop metric refcnt use flags interface
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 10, fields[0] == String(repeating: "0", count: 32), fields[1] == "00",
                  let flags = UInt32(fields[8], radix: 16), flags & 0x1 != 0, flags & 0x200 == 0,
                  let metric = UInt64(fields[5], radix: 16), fields[9] != "lo" else { continue }
            routes6.append((metric, fields[9]))
        }
        var seen = Set<String>()
        return (routes4.sorted { $0.metric < $1.metric } + routes6.sorted { $0.metric < $1.metric })
            .map(\.interface).filter { seen.insert($0).inserted }
    }
}

extension NetworkProfile {
    /// DHCP pinned to the MAC address of the NIC that installed the system (today's flow), or on every
    /// `en*` NIC when it cannot be found.
    public static func dhcpPinnedToInstallingNIC(_ paths: HostPaths) -> NetworkProfile {
        .dhcp(InstallingNIC.find(paths).map { .mac($0.macAddress) })
    }
}

/// The `network:` section of one configuration file.
///
/// ```yaml
/// network:
///   mode: static                 # or dhcp (the default)
///   mac: "52:54:00:12:34:56"     # or interface: enp1s0; neither: the NIC install-os used
///   address: 192.168.1.10/24
///   gateway: 192.168.1.1
///   dns: [192.168.1.1, 9.9.9.9]
/// ```
public struct NetworkSection: Sendable, Equatable, Decodable, ConfigSection, CustomStringConvertible {
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case mode, interface, mac, address, gateway, dns
        case pinToInstallNIC = "pin_to_install_nic"
    }

    public var mode: NetworkConfig.Mode?
    public var interface: String?
    public var mac: String?
    public var address: String?
    public var gateway: String?
    public var dns: [String]?
    public var pinToInstallNIC: Bool?

    public init(mode: NetworkConfig.Mode? = nil, interface: String? = nil, mac: String? = nil, address: String? = nil,
                gateway: String? = nil, dns: [String]? = nil, pinToInstallNIC: Bool? = nil) {
        self.mode = mode
        self.interface = interface
        self.mac = mac
        self.address = address
        self.gateway = gateway
        self.dns = dns
        self.pinToInstallNIC = pinToInstallNIC
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        mode = try container.decodeIfPresent(NetworkConfig.Mode.self, forKey: .mode)
        interface = try container.decodeText(.interface, checkedBy: ConfigValidation.interfaceName)
        mac = try container.decodeText(.mac, checkedBy: ConfigValidation.macAddress)?.lowercased()
        address = try container.decodeText(.address, checkedBy: ConfigValidation.addressWithPrefix)
        gateway = try container.decodeText(.gateway, checkedBy: ConfigValidation.address)
        dns = try container.decodeTextList(.dns, checkedBy: ConfigValidation.address)
        pinToInstallNIC = try container.decodeIfPresent(Bool.self, forKey: .pinToInstallNIC)
        if mode == .dhcp {
            if address != nil { throw container.invalid(.address, "an address needs mode: static (mode here is dhcp)") }
            if gateway != nil { throw container.invalid(.gateway, "a gateway needs mode: static (mode here is dhcp)") }
        }
        if let address, let gateway,
           ConfigValidation.ipVersion(String(address.prefix { $0 != "/" })) != ConfigValidation.ipVersion(gateway) {
            throw container.invalid(.gateway, "the gateway \(gateway) is not of the address's IP version (\(address))")
        }
    }

    public func merged(over earlier: NetworkSection?) -> NetworkSection {
        NetworkSection(mode: mode ?? earlier?.mode, interface: interface ?? earlier?.interface, mac: mac ?? earlier?.mac,
                       address: address ?? earlier?.address, gateway: gateway ?? earlier?.gateway,
                       dns: dns ?? earlier?.dns, pinToInstallNIC: pinToInstallNIC ?? earlier?.pinToInstallNIC)
    }

    public var keysSet: [String] {
        Key.allCases.filter { key in
            switch key {
            case .mode: mode != nil
            case .interface: interface != nil
            case .mac: mac != nil
            case .address: address != nil
            case .gateway: gateway != nil
            case .dns: dns != nil
            case .pinToInstallNIC: pinToInstallNIC != nil
            }
        }.map(\.rawValue)
    }

    public var description: String { "{" + keysSet.joined(separator: ", ") + "}" }
}

/// The network configuration of the installed system (`network:` resolved over every file; systemd-networkd).
public struct NetworkConfig: Sendable, Equatable, Encodable, CustomStringConvertible {
    /// How the interface gets its address.
    public enum Mode: String, ConfigChoice {
        case dhcp
        case `static`
    }

    /// Default `dhcp`.
    public var mode: Mode = .dhcp
    /// The interface to configure, by name (or networkd pattern); `nil` with `mac` `nil`: the install NIC when
    /// `pinToInstallNIC`, else every `en*` interface.
    public var interface: String?
    /// The interface to configure, by MAC address (lower case).
    public var mac: String?
    /// `static`: the address with its prefix length (`192.168.1.10/24`).
    public var address: String?
    /// `static`: the default gateway.
    public var gateway: String?
    /// DNS servers (for `dhcp` too: in addition to the ones DHCP gives).
    public var dns: [String] = []
    /// Match the configuration to the MAC address of the NIC that has the default route while installing, as
    /// the shell installer did. Default `true`; only when neither `interface` nor `mac` is given.
    public var pinToInstallNIC: Bool = true

    public init(mode: Mode = .dhcp, interface: String? = nil, mac: String? = nil, address: String? = nil,
                gateway: String? = nil, dns: [String] = [], pinToInstallNIC: Bool = true) {
        self.mode = mode
        self.interface = interface
        self.mac = mac
        self.address = address
        self.gateway = gateway
        self.dns = dns
        self.pinToInstallNIC = pinToInstallNIC
    }

    /// The configuration a merged section describes (the defaults for a `nil` one).
    init(_ section: NetworkSection?) {
        self.init(mode: section?.mode ?? .dhcp, interface: section?.interface, mac: section?.mac,
                  address: section?.address, gateway: section?.gateway, dns: section?.dns ?? [],
                  pinToInstallNIC: section?.pinToInstallNIC ?? true)
    }

    /// `address` without its prefix length.
    public var addressWithoutPrefix: String? { address.map { String($0.prefix { $0 != "/" }) } }
    /// `address`'s prefix length.
    public var prefixLength: Int? { address.flatMap { $0.split(separator: "/").last.flatMap { Int($0) } } }

    public var description: String {
        var parts = [mode.rawValue]
        if let interface { parts.append("interface \(interface)") }
        if let mac { parts.append("MAC \(mac)") }
        if interface == nil, mac == nil {
            parts.append(pinToInstallNIC ? "pinned to the install NIC's MAC" : "every en* interface")
        }
        if let address { parts.append("address \(address)") }
        if let gateway { parts.append("gateway \(gateway)") }
        if !dns.isEmpty { parts.append("DNS " + dns.joined(separator: " ")) }
        return parts.joined(separator: ", ")
    }

    private enum CodingKeys: String, CodingKey {
        case mode, interface, mac, address, gateway, dns, pinToInstallNIC = "pin_to_install_nic"
    }
}

/// How the installed system is configured after the image is written: what `SystemProvisioner` applies to
/// the mounted root file system. Every field is optional or empty by default; an empty profile changes
/// nothing, except `datasource: NoCloud` in `/etc/cloud/ds-identify.cfg` when the target has cloud-init
/// (`/etc/cloud`), as today's installer always sets it.
///
/// This is the provisioner's own input model; the installer configuration (YAML) is mapped onto it.
public struct SystemProfile: Sendable, Equatable {
    /// `/etc/hostname` and the `127.0.1.1` line of `/etc/hosts`.
    public var hostname: String?
    /// A login user, created or updated like `useradd -m` would, offline.
    public var user: UserAccount?
    /// Proxies for the whole system, containerd and docker.
    public var proxy: ProxySettings?
    /// systemd-networkd configuration.
    public var network: NetworkProfile
    /// systemd-timesyncd servers (and cloud-init's `ntp:`); empty leaves time sync as the image has it.
    public var ntpServers: [String]
    /// How many 2 MiB huge pages the kernel reserves at boot.
    public var hugepages: Int?
    /// What the host runs its workloads with.
    public var hostType: HostType?
    /// What cloud-init (NoCloud) does on first boot, and files written into the target directly.
    public var cloudInit: CloudInitProfile
    /// The swap partition the storage layout made (its UUID), for `/etc/fstab`.
    public var swapUUID: String?

    public init(hostname: String? = nil, user: UserAccount? = nil, proxy: ProxySettings? = nil,
                network: NetworkProfile = .unchanged, ntpServers: [String] = [], hugepages: Int? = nil,
                hostType: HostType? = nil, cloudInit: CloudInitProfile = CloudInitProfile(), swapUUID: String? = nil) {
        self.hostname = hostname
        self.user = user
        self.proxy = proxy
        self.network = network
        self.ntpServers = ntpServers
        self.hugepages = hugepages
        self.hostType = hostType
        self.cloudInit = cloudInit
        self.swapUUID = swapUUID
    }
}

/// A login user of the installed system.
public struct UserAccount: Sendable, Equatable {
    /// The login name (`[a-z_][a-z0-9_-]*`, at most 32 characters).
    public var name: String
    /// A crypt(3) hash (`$6$salt$...` for SHA-512), written to `/etc/shadow` as is. `nil`: a new user gets a
    /// locked password (`!`, SSH keys only); an existing user keeps theirs.
    public var passwordHash: String?
    /// OpenSSH public keys, one per entry, for `~/.ssh/authorized_keys`.
    public var authorizedKeys: [String]
    /// `NOPASSWD:ALL` in `/etc/sudoers.d/90-emts-<name>`.
    public var passwordlessSudo: Bool

    public init(name: String, passwordHash: String? = nil, authorizedKeys: [String] = [],
                passwordlessSudo: Bool = false) {
        self.name = name
        self.passwordHash = passwordHash
        self.authorizedKeys = authorizedKeys
        self.passwordlessSudo = passwordlessSudo
    }
}

/// Proxy URLs: the configuration's own type. A `nil` URL leaves the matching settings as found; an empty
/// `noProxy` writes no `no_proxy`.
public typealias ProxySettings = ProxyConfig

/// Which network interface a systemd-networkd file applies to.
public enum InterfaceMatch: Sendable, Equatable {
    /// `MACAddress=` (six hex pairs, any case; written lower-case).
    case mac(String)
    /// `Name=`: an interface name or a glob (`en*`).
    case name(String)
}

/// A fixed address for one interface.
public struct StaticNetwork: Sendable, Equatable {
    public var match: InterfaceMatch
    /// `address/prefix`, IPv4 or IPv6 (`192.168.1.10/24`).
    public var address: String
    /// The default gateway, when there is one.
    public var gateway: String?
    /// DNS servers, in order.
    public var dns: [String]

    public init(match: InterfaceMatch, address: String, gateway: String? = nil, dns: [String] = []) {
        self.match = match
        self.address = address
        self.gateway = gateway
        self.dns = dns
    }
}

/// The installed system's network configuration (systemd-networkd).
public enum NetworkProfile: Sendable, Equatable {
    /// The image's network files stay as they are.
    case unchanged
    /// DHCP, in `99-dhcp-en.network`: on the given interface, or on every `en*` one when `nil`. With a MAC
    /// (today's flow pins the NIC that installed the system, see `InstallingNIC`), an existing file's
    /// `Name=` is replaced by `MACAddress=`.
    case dhcp(InterfaceMatch?)
    /// A fixed address, in `10-emts-static.network` (sorted before the DHCP file, so it wins for its NIC).
    case staticAddress(StaticNetwork)
}

/// What the host runs its workloads with.
public enum HostType: String, Sendable, Equatable, CaseIterable {
    /// k3s, with its data under `/opt/rancher/k3s`: started on first boot by the helper script
    /// `k3s-configure.sh` when there is one, else by enabling the image's `k3s.service`.
    case kubernetes
    /// Docker, enabled, with its data under `/opt/docker-data`.
    case container
}

/// One file written into the target, like cloud-init's `write_files` but at install time: the configuration's
/// own type. `owner` is `user`, `user:group` or `:group` of the target (`nil`: root:root).
public typealias ProvisionFile = WriteFile

/// cloud-init (NoCloud) on the installed system.
public struct CloudInitProfile: Sendable, Equatable {
    /// Units started and enabled on first boot (`systemctl enable --now`).
    public var servicesEnable: [String]
    /// Units stopped and disabled on first boot (`systemctl disable --now`).
    public var servicesDisable: [String]
    /// Files written into the target now (not by cloud-init).
    public var writeFiles: [ProvisionFile]
    /// Shell commands run on first boot, after the service lines.
    public var runcmd: [String]
    /// The NoCloud seed's `instance-id` (`/var/lib/cloud/seed/nocloud/meta-data`): new for every install, so
    /// cloud-init runs its first-boot modules once. `nil`: no seed is written.
    public var instanceID: String?
    /// Scripts copied to `/etc/cloud/` (mode 0755) for the installed system and its runcmd, as today's flow
    /// copies its k3s, log-collection and os-update scripts there.
    public var helperScripts: [HelperScript]

    public init(servicesEnable: [String] = [], servicesDisable: [String] = [], writeFiles: [ProvisionFile] = [],
                runcmd: [String] = [], instanceID: String? = nil, helperScripts: [HelperScript] = []) {
        self.servicesEnable = servicesEnable
        self.servicesDisable = servicesDisable
        self.writeFiles = writeFiles
        self.runcmd = runcmd
        self.instanceID = instanceID
        self.helperScripts = helperScripts
    }

    var isEmpty: Bool {
        servicesEnable.isEmpty && servicesDisable.isEmpty && writeFiles.isEmpty && runcmd.isEmpty
            && instanceID == nil && helperScripts.isEmpty
    }
}

/// A script for the installed system's `/etc/cloud/`. Encoded (in the plan) as its name, size and source.
public struct HelperScript: Sendable, Equatable, Encodable {
    /// The file name (no directory part).
    public var name: String
    public var bytes: [UInt8]
    /// Where it came from, for the log (`/etc/emts/cloud-scripts/k3s-configure.sh`).
    public var source: String

    /// The script k3s hosts run on first boot (before the configuration's own runcmd lines).
    public static let k3sConfigure = "k3s-configure.sh"

    public init(name: String, bytes: [UInt8], source: String) {
        self.name = name
        self.bytes = bytes
        self.source = source
    }

    private enum CodingKeys: String, CodingKey { case name, bytes, source }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(bytes.count, forKey: .bytes)
        try container.encode(source, forKey: .source)
    }
}

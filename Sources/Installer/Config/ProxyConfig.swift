/// The `proxy:` section of one configuration file.
///
/// ```yaml
/// proxy:
///   http: http://proxy.example.com:3128
///   https: http://proxy.example.com:3128
///   no_proxy: [localhost, 127.0.0.1, .example.com]   # or "localhost,127.0.0.1,.example.com"
/// ```
public struct ProxySection: Sendable, Equatable, Decodable, ConfigSection, CustomStringConvertible {
    public enum Key: String, CodingKey, CaseIterable, Sendable {
        case http, https
        case noProxy = "no_proxy"
    }

    public var http: String?
    public var https: String?
    public var noProxy: [String]?

    public init(http: String? = nil, https: String? = nil, noProxy: [String]? = nil) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.strictContainer(keyedBy: Key.self)
        http = try container.decodeText(.http, checkedBy: ConfigValidation.proxyURL)
        https = try container.decodeText(.https, checkedBy: ConfigValidation.proxyURL)
        if let list = try? container.decodeIfPresent([String].self, forKey: .noProxy) {
            noProxy = list
        } else if let text = try container.decodeIfPresent(String.self, forKey: .noProxy) {
            noProxy = Self.splitList(text)
        }
        for (index, entry) in (noProxy ?? []).enumerated() {
            if let message = ConfigValidation.noProxyEntry(entry) {
                throw container.invalid(.noProxy, index: index, message)
            }
        }
    }

    /// `"a, b,c"` as `["a", "b", "c"]` (empty entries dropped).
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
    }

    public func merged(over earlier: ProxySection?) -> ProxySection {
        ProxySection(http: http ?? earlier?.http, https: https ?? earlier?.https, noProxy: noProxy ?? earlier?.noProxy)
    }

    public var keysSet: [String] {
        Key.allCases.filter { key in
            switch key {
            case .http: http != nil
            case .https: https != nil
            case .noProxy: noProxy != nil
            }
        }.map(\.rawValue)
    }

    public var description: String {
        var parts: [String] = []
        if let http { parts.append("http: " + ConfigValidation.redactedURL(http)) }
        if let https { parts.append("https: " + ConfigValidation.redactedURL(https)) }
        if let noProxy { parts.append("no_proxy: " + noProxy.joined(separator: ",")) }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

/// The proxies of the installed system (`proxy:` resolved over every file).
///
/// Credentials in the URLs (`http://user:secret@proxy:3128`) are hidden in the description and the JSON.
public struct ProxyConfig: Sendable, Equatable, Encodable, CustomStringConvertible {
    public var http: String?
    public var https: String?
    /// Hosts, domains and networks reached directly.
    public var noProxy: [String]

    public init(http: String? = nil, https: String? = nil, noProxy: [String] = []) {
        self.http = http
        self.https = https
        self.noProxy = noProxy
    }

    /// The proxies a merged section describes; `nil` when it sets nothing.
    init?(_ section: ProxySection?) {
        guard let section, !section.keysSet.isEmpty else { return nil }
        self.init(http: section.http, https: section.https, noProxy: section.noProxy ?? [])
    }

    /// `no_proxy` as one comma-separated value, as the environment variable takes it; `nil` when empty.
    public var noProxyValue: String? { noProxy.isEmpty ? nil : noProxy.joined(separator: ",") }

    /// Sets nothing.
    var isEmpty: Bool { http == nil && https == nil && noProxy.isEmpty }

    public var description: String {
        var parts: [String] = []
        if let http { parts.append("http " + ConfigValidation.redactedURL(http)) }
        if let https { parts.append("https " + ConfigValidation.redactedURL(https)) }
        if let noProxyValue { parts.append("no_proxy " + noProxyValue) }
        return parts.joined(separator: ", ")
    }

    private enum CodingKeys: String, CodingKey {
        case http, https, noProxy = "no_proxy"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(http.map(ConfigValidation.redactedURL), forKey: .http)
        try container.encodeIfPresent(https.map(ConfigValidation.redactedURL), forKey: .https)
        try container.encode(noProxy, forKey: .noProxy)
    }
}

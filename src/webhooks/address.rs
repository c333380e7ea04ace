//! Where a webhook may go. Addresses that reach the service's own network (loopback, private,
//! link-local, the cloud metadata address, and the rest of the special ranges) are refused
//! unless the operator allows them. The check runs inside the HTTP client's resolver, so the
//! connection goes to exactly the addresses that were checked: a name cannot answer one
//! address to the check and another to the connection.

use crate::domain::{Invalid, WebhookUrl};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// True for an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, the metadata address among them
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT, some clouds' metadata)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = segments[6].to_be_bytes();
        let [c, d] = segments[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
}

const REFUSED: &str =
    "a loopback, private, link-local or reserved address; webhooks go to public addresses only";

/// Where names are looked up: the system's resolver, or a DNS server the operator names
/// (`SOCIALIZER_WEBHOOK_DNS_SERVER`), asked directly.
#[derive(Clone)]
pub enum Lookup {
    System,
    Server(Arc<hickory_resolver::TokioResolver>),
}

impl Lookup {
    /// A lookup that asks the DNS server at `server` (UDP, then TCP for long answers), caching
    /// nothing, so that every delivery sees the answer of its moment.
    pub fn server(server: SocketAddr) -> Self {
        use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
        let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), group);
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        let resolver = hickory_resolver::Resolver::builder_with_config(
            config,
            hickory_resolver::name_server::TokioConnectionProvider::default(),
        )
        .with_options(options)
        .build();
        Self::Server(Arc::new(resolver))
    }

    async fn resolve(&self, name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let found: Vec<SocketAddr> = match self {
            Lookup::System => tokio::net::lookup_host((name, port)).await?.collect(),
            Lookup::Server(resolver) => resolver
                .lookup_ip(name)
                .await
                .map_err(std::io::Error::other)?
                .iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
        };
        if found.is_empty() {
            return Err(std::io::Error::other("no address"));
        }
        Ok(found)
    }
}

/// The policy: whether private addresses are allowed (development and tests), and where names
/// are looked up.
#[derive(Clone)]
pub struct AddressPolicy {
    pub allow_private: bool,
    pub lookup: Lookup,
}

impl AddressPolicy {
    fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Resolves `name` and checks every address: one refused address refuses the name, so that
    /// a client cannot be steered to it by trying addresses in turn.
    async fn resolve_checked(&self, name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        // A resolver that hangs does not hold the request that asked for long.
        let found = tokio::time::timeout(RESOLVE_WITHIN, self.lookup.resolve(name, port))
            .await
            .map_err(|_| format!("{name} did not resolve in time"))?
            .map_err(|e| format!("{name} does not resolve: {e}"))?;
        match found.iter().find(|a| !self.allows(a.ip())) {
            Some(refused) => Err(format!("{name} resolves to {}, {REFUSED}", refused.ip())),
            None => Ok(found),
        }
    }

    /// Checks the URL's host when an endpoint is added or changed: a name that does not
    /// resolve, or that resolves to a refused address, is refused.
    pub async fn check_url(&self, url: &WebhookUrl) -> Result<(), Invalid> {
        let bad = |message: String| Invalid::new("url", format!("{message}."));
        if let Some(ip) = url.ip() {
            return self
                .check_literal(url)
                .map_err(|_| bad(format!("{ip} is {REFUSED}")));
        }
        let Some(name) = url.domain() else {
            return Err(bad("The URL needs a host".into()));
        };
        self.resolve_checked(name, url.port()).await.map_err(bad)?;
        Ok(())
    }

    /// Checks an address written as such in the URL, before a delivery (names are checked by
    /// the resolver).
    pub fn check_literal(&self, url: &WebhookUrl) -> Result<(), String> {
        match url.ip() {
            Some(ip) if !self.allows(ip) => Err(format!("{ip} is {REFUSED}")),
            _ => Ok(()),
        }
    }
}

const RESOLVE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The HTTP client's resolver, with every answer checked: the connection goes to the addresses
/// this checked, and to no other.
pub struct CheckedResolver(pub AddressPolicy);

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let found = policy.resolve_checked(name.as_str(), 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// The client every delivery goes through: the checked resolver, no redirects, no proxy from
/// the environment (a proxy would connect to the name itself).
pub fn client(policy: AddressPolicy) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver(policy)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("Socializer-Webhooks/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_special_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "192.0.0.8",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "64:ff9b::101:101",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}

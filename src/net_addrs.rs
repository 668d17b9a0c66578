//! This host's own addresses (for pairing links and `wanda auth owner`): read from the kernel
//! with `getifaddrs`, no traffic sent.

use std::net::Ipv4Addr;

/// The host's IPv4 addresses that are not loopback, link-local or unspecified, in interface
/// order.
pub fn lan_ipv4() -> Vec<Ipv4Addr> {
    let mut out = Vec::new();
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `ifap` with a list we walk read-only and free with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return out;
    }
    let mut cur = ifap;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not freed yet.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family we check before the cast.
            let family = unsafe { (*ifa.ifa_addr).sa_family };
            if i32::from(family) == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                let useful = !(ip.is_loopback() || ip.is_link_local() || ip.is_unspecified());
                if useful && !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `ifap` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(ifap) };
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_never_loopback() {
        for ip in super::lan_ipv4() {
            assert!(!ip.is_loopback(), "{ip}");
        }
    }
}

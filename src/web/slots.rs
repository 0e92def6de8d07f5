//! Who may hold the server's connection slots. Every accepted connection
//! takes one. An address's share is `max_per_address`: past it, it may take
//! more only while more than a share stays free for other addresses (so
//! Prometheus alone may run many probes at once, some of them waiting on an
//! organisation that hangs, and a newcomer still finds room). When all
//! `max_total` are taken a new connection is let in by closing one that is
//! not serving a request: the oldest still in its TLS handshake or first
//! request headers (else the oldest idle between requests) of the address
//! holding the most connections. So slow or silent connections, however
//! many addresses they come from, never keep out a client that sends its
//! request promptly, and Prometheus is the last to be touched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Where a connection is in its life, as far as eviction cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Serving a request: never evicted.
    Busy,
    /// Between requests on a kept-alive connection: its client can reconnect.
    Idle,
    /// In its TLS handshake or first request headers: the first to go.
    Opening,
}

#[derive(Debug)]
struct Entry {
    address: IpAddr,
    phase: Phase,
    /// Requests in flight (HTTP/1.1 serves one at a time; counted anyway).
    requests: u32,
    /// When it entered its phase, as a sequence number: lower is older.
    since: u64,
    evict: Option<oneshot::Sender<()>>,
}

#[derive(Debug, Default)]
struct Table {
    next: u64,
    open: HashMap<u64, Entry>,
    per_address: HashMap<IpAddr, usize>,
}

impl Table {
    fn tick(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.open.remove(&id)?;
        if let Some(n) = self.per_address.get_mut(&entry.address) {
            *n -= 1;
            if *n == 0 {
                self.per_address.remove(&entry.address);
            }
        }
        Some(entry)
    }

    /// The connection to close for a new one, if any may be closed: of the
    /// address holding the most, opening before idle, the oldest first.
    fn victim(&self) -> Option<u64> {
        self.open
            .iter()
            .filter(|(_, e)| e.phase != Phase::Busy)
            .max_by_key(|(_, e)| {
                (
                    self.per_address.get(&e.address).copied().unwrap_or(0),
                    e.phase,
                    std::cmp::Reverse(e.since),
                )
            })
            .map(|(id, _)| *id)
    }
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address holds its share already, and no more than a share is free.
    AddressLimit,
    /// Every slot is serving a request.
    Capacity,
}

#[derive(Debug)]
pub struct Slots {
    table: Mutex<Table>,
    max_total: usize,
    max_per_address: usize,
}

/// A connection let in; `evicted` tells whether another was closed for it.
#[derive(Debug)]
pub struct Admitted {
    pub slot: Slot,
    pub evicted: bool,
}

impl Slots {
    pub fn new(max_total: usize, max_per_address: usize) -> Arc<Slots> {
        Arc::new(Slots {
            table: Mutex::new(Table::default()),
            max_total: max_total.max(1),
            max_per_address: max_per_address.max(1),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a connection from `address` in, closing another if need be.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Admitted, Refused> {
        let address = canonical(address);
        let mut table = self.table();
        let held = table.per_address.get(&address).copied().unwrap_or(0);
        let free = self.max_total.saturating_sub(table.open.len());
        if held >= self.max_per_address && free <= self.max_per_address {
            return Err(Refused::AddressLimit);
        }
        let mut evicted = false;
        if table.open.len() >= self.max_total {
            let victim = table.victim().ok_or(Refused::Capacity)?;
            if let Some(mut entry) = table.remove(victim)
                && let Some(evict) = entry.evict.take()
            {
                let _ = evict.send(());
            }
            evicted = true;
        }
        let id = table.tick();
        let (evict, evicted_rx) = oneshot::channel();
        table.open.insert(
            id,
            Entry {
                address,
                phase: Phase::Opening,
                requests: 0,
                since: id,
                evict: Some(evict),
            },
        );
        *table.per_address.entry(address).or_default() += 1;
        Ok(Admitted {
            slot: Slot {
                handle: SlotHandle {
                    slots: self.clone(),
                    id,
                },
                evicted: evicted_rx,
            },
            evicted,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.table().open.len()
    }

    fn set(&self, id: u64, change: impl FnOnce(&mut Entry, u64)) {
        let mut table = self.table();
        let now = table.tick();
        if let Some(entry) = table.open.get_mut(&id) {
            change(entry, now);
        }
    }
}

/// IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`; they
/// are the same client as `a.b.c.d`.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// One connection's slot, freed when dropped.
#[derive(Debug)]
pub struct Slot {
    handle: SlotHandle,
    evicted: oneshot::Receiver<()>,
}

impl Slot {
    /// For the request handler, to say when a request starts and ends.
    pub fn handle(&self) -> SlotHandle {
        self.handle.clone()
    }

    /// Completes when the slot is taken away for a newer connection.
    pub async fn evicted(&mut self) {
        if (&mut self.evicted).await.is_err() {
            // The sender is dropped only with the entry: never evicted.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.handle.slots.table().remove(self.handle.id);
    }
}

#[derive(Debug, Clone)]
pub struct SlotHandle {
    slots: Arc<Slots>,
    id: u64,
}

impl SlotHandle {
    /// A request has been read; the connection is busy until the guard is
    /// dropped (when the response has been sent, or abandoned).
    pub fn busy(&self) -> Busy {
        self.slots.set(self.id, |e, _| {
            e.requests += 1;
            e.phase = Phase::Busy;
        });
        Busy(self.clone())
    }
}

/// A request in flight; see [`SlotHandle::busy`].
#[derive(Debug)]
pub struct Busy(SlotHandle);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.slots.set(self.0.id, |e, now| {
            e.requests = e.requests.saturating_sub(1);
            if e.requests == 0 {
                e.phase = Phase::Idle;
                e.since = now;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    fn evicted(slot: &mut Slot) -> bool {
        slot.evicted.try_recv().is_ok()
    }

    #[test]
    fn an_address_over_its_share_is_refused_when_a_share_is_all_that_is_free() {
        let slots = Slots::new(4, 2);
        let _a = slots.admit(ip(2)).unwrap();
        let _b = slots.admit(ip(2)).unwrap();
        assert_eq!(slots.admit(ip(2)).unwrap_err(), Refused::AddressLimit);
        // The same client over IPv4 and IPv4-mapped IPv6.
        let mapped = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(slots.admit(mapped).unwrap_err(), Refused::AddressLimit);
        assert!(slots.admit(ip(1)).is_ok());
        drop(_a);
        assert!(slots.admit(ip(2)).is_ok(), "a freed slot is free again");
    }

    #[test]
    fn an_address_may_go_past_its_share_while_a_share_stays_free() {
        let slots = Slots::new(10, 2);
        let mut prometheus: Vec<Slot> = (0..8).map(|_| slots.admit(ip(1)).unwrap().slot).collect();
        assert_eq!(slots.admit(ip(1)).unwrap_err(), Refused::AddressLimit);
        // The share kept free is another address's.
        let _a = slots.admit(ip(2)).unwrap();
        let _b = slots.admit(ip(2)).unwrap();
        assert_eq!(slots.admit(ip(2)).unwrap_err(), Refused::AddressLimit);
        // Full: a third address gets in by closing one of the largest holder's.
        let third = slots.admit(ip(3)).unwrap();
        assert!(third.evicted);
        assert!(evicted(&mut prometheus[0]));
    }

    #[test]
    fn when_full_the_oldest_opening_connection_of_the_largest_holder_goes() {
        let slots = Slots::new(4, 10);
        let mut scraper = slots.admit(ip(1)).unwrap().slot;
        let mut hog: Vec<Slot> = (0..3).map(|_| slots.admit(ip(2)).unwrap().slot).collect();
        let admitted = slots.admit(ip(3)).unwrap();
        assert!(admitted.evicted);
        assert!(evicted(&mut hog[0]), "the hog's oldest goes first");
        assert!(!evicted(&mut hog[1]) && !evicted(&mut scraper));
        assert_eq!(slots.open(), 4);
        // The evicted slot's own drop later frees nothing twice.
        hog.remove(0);
        assert_eq!(slots.open(), 4);
    }

    #[test]
    fn busy_connections_stay_and_idle_ones_go_after_opening_ones() {
        let slots = Slots::new(3, 10);
        let mut busy = slots.admit(ip(2)).unwrap().slot;
        let _request = busy.handle().busy();
        let mut idle = slots.admit(ip(2)).unwrap().slot;
        drop(idle.handle().busy());
        let mut opening = slots.admit(ip(2)).unwrap().slot;

        let first = slots.admit(ip(1)).unwrap();
        assert!(first.evicted);
        assert!(evicted(&mut opening), "opening goes before idle");
        let _next = slots.admit(ip(3)).unwrap();
        assert!(evicted(&mut idle), "then idle, though younger than busy");
        assert!(!evicted(&mut busy));
    }

    #[test]
    fn when_every_slot_serves_a_request_a_new_connection_is_refused() {
        let slots = Slots::new(2, 10);
        let a = slots.admit(ip(2)).unwrap().slot;
        let b = slots.admit(ip(3)).unwrap().slot;
        let (_ra, _rb) = (a.handle().busy(), b.handle().busy());
        assert_eq!(slots.admit(ip(1)).unwrap_err(), Refused::Capacity);
    }
}

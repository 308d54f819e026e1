//! The read cache's own tests: generations, closing at a publication, the bound
//! in bytes.

use super::*;

fn entry(generation: u64) -> Entry {
    Entry {
        generation,
        etag: "\"a\"".to_owned(),
        headers: Vec::new(),
        body: Bytes::from_static(b"{}"),
    }
}

#[test]
fn an_answer_is_served_only_under_its_generation_while_open() {
    let cache = ReadCache::new(1 << 20);
    assert_eq!(cache.ticket(), None, "a new cache is closed");
    let generation = cache.to_open().unwrap_or_else(|| panic!("closed"));
    cache.open(generation, Instant::now(), None);
    let ticket = cache.ticket().unwrap_or_else(|| panic!("open"));
    cache.put("k".to_owned(), entry(ticket));
    assert!(cache.get("k").is_some());
    // A read that began before a change keeps nothing.
    cache.invalidate();
    assert!(cache.get("k").is_none());
    cache.put("k".to_owned(), entry(ticket));
    let generation = cache.to_open().unwrap_or_else(|| panic!("closed"));
    cache.open(generation, Instant::now(), None);
    assert!(cache.get("k").is_none());
}

#[test]
fn it_closes_at_the_next_publication_and_opens_empty() {
    let cache = ReadCache::new(1 << 20);
    let generation = cache.to_open().unwrap_or_else(|| panic!("closed"));
    cache.open(generation, Instant::now(), Some(Duration::from_millis(50)));
    let ticket = cache.ticket().unwrap_or_else(|| panic!("open"));
    cache.put("k".to_owned(), entry(ticket));
    std::thread::sleep(Duration::from_millis(60));
    assert!(cache.get("k").is_none(), "closed at the publication");
    let generation = cache.to_open().unwrap_or_else(|| panic!("time is up"));
    assert_ne!(generation, ticket);
    // A change while the next publication was asked for keeps it closed.
    cache.invalidate();
    cache.open(generation, Instant::now(), None);
    assert_eq!(cache.ticket(), None);
}

#[test]
fn a_publication_found_later_closes_it_earlier_never_later() {
    let cache = ReadCache::new(1 << 20);
    let generation = cache.to_open().unwrap_or_else(|| panic!("closed"));
    cache.open(generation, Instant::now(), None);
    cache.close_by(Instant::now(), None);
    assert!(cache.is_open());
    cache.close_by(Instant::now(), Some(Duration::from_secs(3600)));
    cache.close_by(Instant::now(), Some(Duration::from_millis(30)));
    cache.close_by(Instant::now(), Some(Duration::from_secs(60)));
    assert!(cache.is_open());
    std::thread::sleep(Duration::from_millis(40));
    assert!(!cache.is_open(), "closed at the earliest publication");
}

#[test]
fn it_is_bounded_in_bytes() {
    let cache = ReadCache::new(64 << 10);
    let generation = cache.to_open().unwrap_or_else(|| panic!("closed"));
    cache.open(generation, Instant::now(), None);
    for i in 0..100 {
        let mut big = entry(generation);
        big.body = Bytes::from(vec![b'x'; 4096]);
        cache.put(format!("k{i}"), big);
    }
    let entries = cache.entries.as_ref().unwrap_or_else(|| panic!("enabled"));
    assert!(entries.weight() <= 64 << 10, "{}", entries.weight());
    assert!(entries.len() < 20);
}

//! What the compiler refuses in the threads backend, kept refused: the notebook's naive code
//! translated as a newcomer would, as doctests that must fail to compile (`cargo test -p
//! threads --doc`). The demos themselves are the `threads` program (`src/main.rs`); `lock`'s
//! `plain` variant runs what Rust does allow instead.
//!
//! # Four threads updating one plain counter
//!
//! The notebook's `global x` and `x += 2` in four threads, without the lock. Rust refuses it:
//! error E0499, "cannot borrow `counter` as mutable more than once at a time". A thread that
//! updates the counter holds `&mut counter`, and `&mut` means "no one else": two of them at
//! once would be the data race the notebook's unlocked loop has, so it is a compile error
//! rather than a lost update.
//!
//! ```compile_fail,E0499
//! let mut counter: u64 = 0;
//! std::thread::scope(|scope| {
//!     scope.spawn(|| for _ in 0..100_000 { counter += 2 });
//!     scope.spawn(|| for _ in 0..100_000 { counter -= 2 });
//! });
//! ```
//!
//! # A thread that borrows the parent's counter
//!
//! Without a scope, a spawned thread may outlive the function that spawned it, and with it
//! the counter it borrows: error E0373, "closure may outlive the current function, but it
//! borrows `counter`". The compiler's fix, `move`, copies the counter (a `u64` is `Copy`)
//! into the thread: it then counts in its own copy, and the parent's stays 0, which is what
//! `lock`'s `plain` variant shows.
//!
//! ```compile_fail,E0373
//! fn add_in_a_thread() {
//!     let mut counter: u64 = 0;
//!     let worker = std::thread::spawn(|| counter += 2);
//!     worker.join().unwrap();
//! }
//! ```
//!
//! What compiles, and what it means:
//!
//! ```
//! let mut counter: u64 = 0;
//! let worker = std::thread::spawn(move || {
//!     counter += 2; // the thread's own copy
//!     counter
//! });
//! assert_eq!(worker.join().unwrap(), 2);
//! assert_eq!(counter, 0); // the parent's was never touched
//! ```

#![forbid(unsafe_code)]

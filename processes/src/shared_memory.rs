//! Memory shared between the parent and its forked children: a `MAP_SHARED | MAP_ANONYMOUS`
//! mapping made before the fork, so that every child maps the same physical pages.
//!
//! After `fork()` a child's ordinary memory is a private copy: a write there is invisible
//! to everyone else. Only a shared mapping is seen by all, and only what is made for that
//! may live in it: atomics, and locks or futexes meant for use across processes.

use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};
use shared::DemoError;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::ptr::NonNull;

/// A type that may live in a mapping several processes use at once.
///
/// # Safety
/// Implement it only for types that stay valid when several processes read and write their
/// bytes concurrently through shared references: no pointers into private memory (a heap
/// pointer would name each process's own copy), all mutation through atomics or primitives
/// made for use across processes, and no destructor that matters (none is run).
pub unsafe trait ProcessShared: Sync {
    /// Finishes setting up the value where it lives, in the mapping (a pthread mutex must
    /// be initialised at its final address).
    fn init_in_place(&self) -> Result<(), DemoError> {
        Ok(())
    }
}

/// One value of type `T` in its own shared anonymous mapping.
pub struct SharedMapping<T: ProcessShared> {
    value: NonNull<T>,
}

impl<T: ProcessShared> SharedMapping<T> {
    /// Maps a shared page (or more) for `value`, moves it there and initialises it in place.
    /// Call it before forking the workers that share it.
    pub fn new(value: T) -> Result<Self, DemoError> {
        let length = NonZeroUsize::new(size_of::<T>().max(1)).expect("at least one byte");
        // SAFETY: a new anonymous mapping at an address the kernel chooses aliases nothing
        // this program holds; it is zero-filled, readable and writable.
        let pages = unsafe {
            mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(|e| DemoError::system("mmap of a shared page", e))?;
        // Page-aligned, hence aligned for any `T`.
        let place = pages.cast::<T>();
        // SAFETY: `place` is valid for a write of `size_of::<T>()` bytes and aligned; the
        // zeroed bytes there hold no value, so nothing is overwritten without being dropped.
        unsafe { place.as_ptr().write(value) };
        let mapping = SharedMapping { value: place };
        mapping.init_in_place()?;
        Ok(mapping)
    }
}

impl<T: ProcessShared> Deref for SharedMapping<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `value` was initialised in `new` and stays mapped until `drop`; only
        // shared references are handed out, and `T: ProcessShared` makes them sound even
        // while other processes use the same bytes.
        unsafe { self.value.as_ref() }
    }
}

impl<T: ProcessShared> Drop for SharedMapping<T> {
    /// Unmaps the parent's view; each child's view goes when the child exits.
    fn drop(&mut self) {
        // SAFETY: the mapping was made in `new` with this address and length, and no
        // reference into it outlives `self` (they all borrow from `self`).
        let _ = unsafe { munmap(self.value.cast(), size_of::<T>().max(1)) };
    }
}

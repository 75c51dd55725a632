//! Memory shared between the parent and its worker processes: a memory file (`memfd`) mapped
//! `MAP_SHARED`, so that every process that maps it sees the same physical pages.
//!
//! A worker's ordinary memory is its own: a forked child's is a private copy, and a spawned
//! child's is a fresh program's. Only a shared mapping is seen by all, and only what is made
//! for that may live in it: atomics, and locks or futexes meant for use across processes.
//! The mapping is backed by a file descriptor rather than being anonymous so that it can be
//! handed to a spawned worker: the descriptor is inherited across `exec`, and the worker
//! maps it again ([`Shared::map`]).

use contract::DemoError;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};
use nix::sys::stat::fstat;
use nix::unistd::ftruncate;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::ptr::NonNull;

/// A type that may live in a mapping several processes use at once.
///
/// # Safety
/// Implement it only for types that stay valid when several processes read and write their
/// bytes concurrently through shared references, each at its own address: no pointers (a
/// pointer would name each process's own memory), all mutation through atomics or
/// primitives made for use across processes, and no destructor that matters (none is run).
pub unsafe trait ProcessShared: Sync {
    /// Finishes setting up the value where it lives, in the mapping (a pthread mutex must
    /// be initialised in place).
    fn init_in_place(&self) -> Result<(), DemoError> {
        Ok(())
    }
}

/// One value of type `T` in a shared memory file, mapped into this process.
pub struct SharedMapping<T: ProcessShared> {
    value: NonNull<T>,
    /// The memory file, in the process that made it; a worker's view does not own it.
    file: Option<OwnedFd>,
}

impl<T: ProcessShared> SharedMapping<T> {
    /// Makes a memory file for `value`, maps it, moves `value` there and initialises it in
    /// place. Call it before starting the workers that share it.
    pub fn new(value: T) -> Result<Self, DemoError> {
        // Close-on-exec: only a worker that is handed it keeps it across its `exec`.
        let file = memfd_create(c"shared-state", MFdFlags::MFD_CLOEXEC)
            .map_err(|e| DemoError::system("memfd_create", e))?;
        ftruncate(&file, length::<T>().get() as i64)
            .map_err(|e| DemoError::system("sizing the shared memory file", e))?;
        let place = map_file::<T>(file.as_raw_fd()).map_err(DemoError::System)?;
        // SAFETY: `place` is a new mapping, valid for a write of `size_of::<T>()` bytes and
        // page-aligned; its zeroed bytes hold no value, so nothing is overwritten unread.
        unsafe { place.as_ptr().write(value) };
        let mapping = SharedMapping {
            value: place,
            file: Some(file),
        };
        mapping.init_in_place()?;
        Ok(mapping)
    }

    /// What a worker's job carries to reach this value: the memory file's descriptor.
    pub fn handle(&self) -> Shared<T> {
        let file = self
            .file
            .as_ref()
            .expect("only the maker of a mapping hands it out");
        Shared {
            fd: file.as_raw_fd(),
            _value: PhantomData,
        }
    }
}

impl<T: ProcessShared> Deref for SharedMapping<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the value was initialised (by `new`, in this process or in the parent)
        // and stays mapped until `drop`; only shared references are handed out, and
        // `T: ProcessShared` makes them sound even while other processes use the same bytes.
        unsafe { self.value.as_ref() }
    }
}

impl<T: ProcessShared> Drop for SharedMapping<T> {
    /// Unmaps this process's view; the memory goes when the last process lets go of it.
    fn drop(&mut self) {
        // SAFETY: the mapping was made with this address and length, and no reference into
        // it outlives `self` (they all borrow from `self`).
        let _ = unsafe { munmap(self.value.cast(), length::<T>().get()) };
    }
}

/// A shared value as a worker's job carries it: the number of the memory file's descriptor,
/// which a forked child inherits and a spawned child is handed across `exec`.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Shared<T> {
    fd: RawFd,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Shared<T> {}

impl<T: ProcessShared> Shared<T> {
    /// The descriptor a spawned worker must inherit.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Maps the shared value into this worker. Call it in the worker the job was sent to.
    pub fn map(&self) -> Result<SharedMapping<T>, String> {
        // SAFETY: a job names a descriptor its parent opened for this worker and keeps open
        // until the worker is joined; it is only borrowed here, not closed.
        let file = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let size = fstat(file).map_err(|e| format!("the shared memory file: {e}"))?;
        if size.st_size != length::<T>().get() as i64 {
            return Err(format!(
                "descriptor {} is not the shared memory file this job expects",
                self.fd
            ));
        }
        Ok(SharedMapping {
            value: map_file::<T>(self.fd)?,
            file: None,
        })
    }
}

/// The mapping's length: the value's size (at least one byte).
fn length<T>() -> NonZeroUsize {
    NonZeroUsize::new(size_of::<T>().max(1)).expect("at least one byte")
}

/// Maps the memory file `fd`, shared, readable and writable, for a `T`.
fn map_file<T>(fd: RawFd) -> Result<NonNull<T>, String> {
    // SAFETY: the descriptor is open for as long as the caller's handle says (see callers).
    let file = unsafe { BorrowedFd::borrow_raw(fd) };
    // SAFETY: a new mapping at an address the kernel chooses aliases nothing this program
    // holds; the file is `length::<T>()` bytes long (sized by its maker, checked by `map`).
    let pages = unsafe {
        mmap(
            None,
            length::<T>(),
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
            file,
            0,
        )
    }
    .map_err(|e| format!("mmap of the shared memory file: {e}"))?;
    // Page-aligned, hence aligned for any `T`.
    Ok(pages.cast::<T>())
}

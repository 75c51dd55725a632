//! Memory shared between the parent and its worker processes: ipc-channel's
//! `IpcSharedMemory`, a memory file (`memfd`) mapped `MAP_SHARED`, so that every process that
//! maps it sees the same physical pages.
//!
//! A worker's ordinary memory is its own: a forked child's is a private copy, and a spawned
//! child's is a fresh program's. Only a shared mapping is seen by all, and only what is made
//! for that may live in it: atomics, and locks or futexes meant for use across processes.
//! The mapping travels inside a worker's job like any other value: every worker, forked or
//! spawned, receives the memory file in its job's message (ipc-channel passes the descriptor
//! along) and maps it again. Nothing is inherited by descriptor number, so a job names no
//! descriptor.

pub mod hand_off;
pub mod queue;

use contract::DemoError;
use ipc_channel::ipc::IpcSharedMemory;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;
use std::ops::Deref;
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
    ///
    /// # Safety
    /// Call it once, on the value at its final place in the mapping, before any other
    /// process or thread uses it: initialising a lock that is in use breaks it.
    unsafe fn init_in_place(&self) -> Result<(), DemoError> {
        Ok(())
    }
}

/// One value of type `T` in a shared memory file, mapped into this process. The parent makes
/// it with [`SharedMapping::new`]; each job carries a [`Shared`] handle to it.
pub struct SharedMapping<T: ProcessShared> {
    /// This process's view of the memory file, which keeps it mapped.
    memory: IpcSharedMemory,
    value: NonNull<T>,
}

// SAFETY: the mapping hands out only shared references to a `T`, which is `Sync`
// (`ProcessShared: Sync`), so they may be used from any thread; moving the mapping to another
// thread and unmapping it there is as sound as here.
unsafe impl<T: ProcessShared> Send for SharedMapping<T> {}

// SAFETY: as above: `&SharedMapping<T>` gives only `&T`, and `T: Sync`.
unsafe impl<T: ProcessShared> Sync for SharedMapping<T> {}

impl<T: ProcessShared> SharedMapping<T> {
    /// Makes a memory file for `value`, maps it, moves `value` there and initialises it in
    /// place. Call it before starting the workers that share it.
    pub fn new(value: T) -> Result<Self, DemoError> {
        let mapping = view::<T>(IpcSharedMemory::from_byte(0, size_of::<T>().max(1)))
            .map_err(DemoError::System)?;
        // SAFETY: the mapping is new, page-aligned and `size_of::<T>()` bytes long (checked by
        // `view`), and no other process has it yet; its zeroed bytes hold no value, so
        // nothing is overwritten unread.
        unsafe { mapping.value.as_ptr().write(value) };
        // SAFETY: the value is at its final place and no worker has a handle to it yet.
        unsafe { mapping.init_in_place()? };
        Ok(mapping)
    }

    /// What a worker's job carries to reach this value: the memory file itself.
    pub fn handle(&self) -> Shared<T> {
        Shared {
            memory: self.memory.clone(),
            _value: PhantomData,
        }
    }
}

impl<T: ProcessShared> Deref for SharedMapping<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the value was initialised by `new` (in this process or in the parent, for
        // the same memory file) and stays mapped as long as `self.memory`; only shared
        // references are handed out, and `T: ProcessShared` makes them sound even while
        // other processes use the same bytes.
        unsafe { self.value.as_ref() }
    }
}

/// A shared value as a worker's job carries it: the memory file, which a worker receives
/// inside its job's message.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Shared<T> {
    memory: IpcSharedMemory,
    _value: PhantomData<fn() -> T>,
}

impl<T: ProcessShared> Shared<T> {
    /// Maps the shared value into this worker.
    ///
    /// # Safety
    /// The handle must come from [`SharedMapping::handle`] for a `SharedMapping<T>` (sent by
    /// the parent in the worker's job): its bytes are then an initialised `T`. A handle made
    /// any other way (deserialised from a forged message) may hold bytes that are no `T`.
    pub unsafe fn map(self) -> Result<SharedMapping<T>, String> {
        view::<T>(self.memory)
    }
}

/// This process's view of `memory` as a `T`, if it has a `T`'s size.
fn view<T>(mut memory: IpcSharedMemory) -> Result<SharedMapping<T>, String>
where
    T: ProcessShared,
{
    if memory.len() != size_of::<T>().max(1) {
        return Err(format!(
            "the shared memory file holds {} bytes, not the {} of this job's value",
            memory.len(),
            size_of::<T>()
        ));
    }
    // SAFETY: the pointer is taken once, to be used only through shared references to a `T`
    // whose mutation goes through atomics or process-shared primitives (`T:
    // ProcessShared`); no `&mut [u8]` to these bytes is kept or made again.
    let bytes = unsafe { memory.deref_mut() };
    let value = NonNull::new(bytes.as_mut_ptr().cast::<T>()).ok_or("an empty mapping")?;
    // A mapping is page-aligned, hence aligned for any `T` of this program.
    if !value.as_ptr().is_aligned() {
        return Err("the shared memory file is not aligned for its value".into());
    }
    Ok(SharedMapping { memory, value })
}

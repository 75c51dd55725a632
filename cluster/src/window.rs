//! One 64-bit word in an MPI one-sided (RMA) window on rank 0 of a communicator, read and
//! written by the other ranks with `MPI_Get` and `MPI_Put`: `lock`'s shared counter.
//!
//! rsmpi has no binding for windows, so this module calls MPI's C functions (`mpi::ffi`) and
//! is the one place that does. The window is made with `MPI_Win_allocate`, which lets Open MPI
//! place it in shared memory when every rank is on one machine (its `osc/sm` component) and
//! reach it by RDMA or messages otherwise. Every access is inside a passive-target epoch:
//! under an exclusive lock of rank 0's window, or under a shared lock of every window
//! (`MPI_Win_lock_all`), where accesses of different ranks may interleave.

use mpi::datatype::Equivalence;
use mpi::ffi;
use mpi::raw::AsRaw;
use mpi::topology::SimpleCommunicator;
use std::os::raw::c_void;

/// The rank that holds the word.
const HOLDER: i32 = 0;

/// The window of a communicator: one `u64` on its rank 0, nothing on the others.
pub struct CounterWindow {
    win: ffi::MPI_Win,
    /// The communicator the window was made over; it must outlive the window.
    comm: SimpleCommunicator,
}

fn check(what: &str, code: i32) -> Result<(), String> {
    match code as u32 {
        ffi::MPI_SUCCESS => Ok(()),
        _ => Err(format!("{what} failed with MPI error {code}")),
    }
}

impl CounterWindow {
    /// Makes the window, collectively over `comm`: every rank of it must call this. The word
    /// starts at 0.
    pub fn allocate(comm: SimpleCommunicator) -> Result<Self, String> {
        use mpi::traits::Communicator;
        let bytes = if comm.rank() == HOLDER {
            std::mem::size_of::<u64>()
        } else {
            0
        };
        let mut base: *mut u64 = std::ptr::null_mut();
        // SAFETY: reads an immutable handle MPI's library defines.
        let info_null = unsafe { ffi::RSMPI_INFO_NULL };
        let mut win = std::mem::MaybeUninit::<ffi::MPI_Win>::uninit();
        // SAFETY: `base` and `win` are valid places for MPI to write the window's memory and
        // handle; `comm` is a live communicator; the size fits the disposition unit.
        let code = unsafe {
            ffi::MPI_Win_allocate(
                bytes as ffi::MPI_Aint,
                std::mem::size_of::<u64>() as i32,
                info_null,
                comm.as_raw(),
                (&raw mut base).cast::<c_void>(),
                win.as_mut_ptr(),
            )
        };
        check("MPI_Win_allocate", code)?;
        // SAFETY: MPI_Win_allocate succeeded, so it wrote the handle.
        let win = unsafe { win.assume_init() };
        let window = CounterWindow { win, comm };
        if !base.is_null() {
            // The holder sets its word to 0 under its own exclusive lock.
            let epoch = window.lock_exclusive()?;
            epoch.put(crate::window::ZERO)?;
        }
        window.barrier_free_of_spinning()?;
        Ok(window)
    }

    /// Starts an epoch under the exclusive lock of rank 0's window: no other rank reaches the
    /// word until it ends. Returns once the lock is held (a first read makes sure of it: a
    /// lock may otherwise be taken lazily, at the first access).
    pub fn lock_exclusive(&self) -> Result<Epoch<'_>, String> {
        // SAFETY: the window is live; the lock is released by `Epoch`'s drop.
        let code =
            unsafe { ffi::MPI_Win_lock(ffi::MPI_LOCK_EXCLUSIVE as i32, HOLDER, 0, self.win) };
        check("MPI_Win_lock", code)?;
        let epoch = Epoch {
            window: self,
            exclusive: true,
        };
        epoch.get()?;
        Ok(epoch)
    }

    /// Starts an epoch under a shared lock of every window (`MPI_Win_lock_all`): every rank
    /// may access the word at once, so one's get and put may straddle another's.
    pub fn lock_shared(&self) -> Result<Epoch<'_>, String> {
        // SAFETY: the window is live; the lock is released by `Epoch`'s drop.
        let code = unsafe { ffi::MPI_Win_lock_all(0, self.win) };
        check("MPI_Win_lock_all", code)?;
        Ok(Epoch {
            window: self,
            exclusive: false,
        })
    }

    /// Waits until every rank of the communicator is here, spinning in MPI: the ranks leave
    /// it within microseconds of each other (a start line).
    pub fn barrier_spinning(&self) {
        use mpi::traits::CommunicatorCollectives;
        self.comm.barrier();
    }

    /// Waits until every rank of the communicator is here, without spinning on a core.
    pub fn barrier_free_of_spinning(&self) -> Result<(), String> {
        use mpi::traits::CommunicatorCollectives;
        crate::ranks::complete(self.comm.immediate_barrier());
        Ok(())
    }
}

impl Drop for CounterWindow {
    fn drop(&mut self) {
        // Collective: every rank frees it, after the last epoch of any rank has ended.
        // SAFETY: the window is live and freed once, here.
        unsafe { ffi::MPI_Win_free(&raw mut self.win) };
    }
}

/// The word's value of a counter at 0 with no update applied.
pub const ZERO: u64 = contract::counter::ZERO;

/// An access epoch to the word; ending it (drop) releases its lock.
pub struct Epoch<'w> {
    window: &'w CounterWindow,
    exclusive: bool,
}

impl Epoch<'_> {
    /// Reads the word: `MPI_Get`, then `MPI_Win_flush` so that the value has arrived.
    pub fn get(&self) -> Result<u64, String> {
        let mut word = 0u64;
        let datatype = u64::equivalent_datatype().as_raw();
        // SAFETY: `word` is a valid place for one u64 until the flush below completes the get;
        // the window is live and inside an epoch.
        let code = unsafe {
            ffi::MPI_Get(
                (&raw mut word).cast::<c_void>(),
                1,
                datatype,
                HOLDER,
                0,
                1,
                datatype,
                self.window.win,
            )
        };
        check("MPI_Get", code)?;
        // SAFETY: as above.
        let code = unsafe { ffi::MPI_Win_flush(HOLDER, self.window.win) };
        check("MPI_Win_flush", code)?;
        Ok(word)
    }

    /// Writes the word: `MPI_Put`, then `MPI_Win_flush` so that it has landed.
    pub fn put(&self, word: u64) -> Result<(), String> {
        let datatype = u64::equivalent_datatype().as_raw();
        // SAFETY: `word` lives until the flush below completes the put; the window is live and
        // inside an epoch.
        let code = unsafe {
            ffi::MPI_Put(
                (&raw const word).cast::<c_void>(),
                1,
                datatype,
                HOLDER,
                0,
                1,
                datatype,
                self.window.win,
            )
        };
        check("MPI_Put", code)?;
        // SAFETY: as above.
        let code = unsafe { ffi::MPI_Win_flush(HOLDER, self.window.win) };
        check("MPI_Win_flush", code)
    }
}

impl Drop for Epoch<'_> {
    fn drop(&mut self) {
        if self.exclusive {
            // SAFETY: this value opened the epoch on this live window, and closes it once.
            unsafe { ffi::MPI_Win_unlock(HOLDER, self.window.win) };
        } else {
            // SAFETY: as above.
            unsafe { ffi::MPI_Win_unlock_all(self.window.win) };
        }
    }
}

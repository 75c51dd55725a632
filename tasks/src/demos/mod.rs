//! One file per demo, mirroring `threads/src/demos/` line by line; the list of demos is the
//! contract's, so a demo without its file here does not compile.

contract::for_each_demo!(runner::backend_demos);

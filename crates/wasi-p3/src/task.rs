//! Tasks within one export call.

use std::future::Future;

use wasip3::wit_bindgen;

/// Runs `task` beside the current one, within the same export call. wit-bindgen 0.57 queues a
/// task spawned from another spawned task without polling it until the next host event (a
/// request body then sat unread until the route's 5 s deadline fired); yielding once makes its
/// executor poll again, and the new task with it.
pub(crate) async fn spawn(task: impl Future<Output = ()> + 'static) {
    wit_bindgen::spawn(task);
    wit_bindgen::yield_async().await;
}

//! A loopback HTTP server for fuzzing a client: it answers every request
//! with the bytes it was last given, raw (a status line and headers, or
//! anything else), then closes the connection. It listens on 127.0.0.1 only
//! and reads at most [`MAX_REQUEST_HEAD`] bytes of each request.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The most of a request read before answering: its line and headers.
const MAX_REQUEST_HEAD: usize = 64 << 10;

/// How long a connection may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// A server answering on its own thread, for as long as the process runs.
pub struct CannedServer {
    port: u16,
    answer: Arc<Mutex<Vec<u8>>>,
}

impl CannedServer {
    /// Starts a server on a free loopback port, answering with nothing
    /// until [`CannedServer::set_answer`] is called.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let answer = Arc::new(Mutex::new(Vec::new()));
        let canned = Arc::clone(&answer);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                // A client that hangs up early is not the server's problem.
                let _ = respond(conn, &canned);
            }
        });
        CannedServer { port, answer }
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sets what the requests from now on are answered with.
    pub fn set_answer(&self, bytes: &[u8]) {
        let mut answer = self.answer.lock().unwrap_or_else(PoisonError::into_inner);
        answer.clear();
        answer.extend_from_slice(bytes);
    }
}

/// Reads the request's head, writes the answer, and closes.
fn respond(mut conn: TcpStream, answer: &Mutex<Vec<u8>>) -> io::Result<()> {
    conn.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    read_request_head(&mut conn)?;
    let answer = answer
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    conn.write_all(&answer)?;
    conn.shutdown(Shutdown::Write)
}

/// Reads up to the blank line that ends a request's headers (a GET has no
/// body), or [`MAX_REQUEST_HEAD`] bytes, or the end of the stream.
fn read_request_head(conn: &mut TcpStream) -> io::Result<()> {
    let mut head = Vec::new();
    let mut chunk = [0; 4096];
    while head.len() < MAX_REQUEST_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

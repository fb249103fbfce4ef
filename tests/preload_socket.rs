//! Events reach a listening driver over the Unix socket named by
//! PYREWRITE_SOCKET, one connection per event, and take precedence over the file.

mod common;

use common::*;
use pyrewrite_protocol::{env, Action, Event};
use std::io::Read;
use std::os::unix::net::UnixListener;

#[test]
fn events_are_sent_to_the_session_socket() {
    let dir = scratch("socket");
    let emcc = FakeEmcc::new(&dir);
    let s = Session::new(&dir, Some(emcc.target(&dir)));
    write(&dir, "x.c", "int x;\n");
    let sock = dir.join("events.sock");
    let listener = UnixListener::bind(&sock).unwrap();

    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("gcc -c x.c -o x.o && /bin/true")
        .env(env::SOCKET, &sock));
    assert_ok(&out, "sh under socket session");

    // Every event connected before its exec, so all are queued by now.
    listener.set_nonblocking(true).unwrap();
    let mut events: Vec<Event> = Vec::new();
    while let Ok((mut conn, _)) = listener.accept() {
        conn.set_nonblocking(false).unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        assert_eq!(
            text.matches('\n').count(),
            1,
            "one line per connection: {text:?}"
        );
        events.push(serde_json::from_str(text.trim_end()).unwrap());
    }
    let rewrites: Vec<_> = events
        .iter()
        .filter(|e| e.action == Action::Rewrite)
        .collect();
    assert_eq!(rewrites.len(), 1, "{events:#?}");
    assert_eq!(
        rewrites[0].argv,
        strings(&["gcc", "-c", "x.c", "-o", "x.o"])
    );
    assert!(
        events.iter().any(|e| e.path.ends_with("/true")),
        "{events:#?}"
    );
    assert!(!s.events.exists(), "the socket replaces the file");
    assert_eq!(emcc.calls().len(), 1);
}

#[test]
fn a_vanished_driver_does_not_change_the_build() {
    let dir = scratch("socket-gone");
    let emcc = FakeEmcc::new(&dir);
    let s = Session::new(&dir, Some(emcc.target(&dir)));
    write(&dir, "x.c", "int x;\n");
    let out = run(s
        .command("sh")
        .arg("-c")
        .arg("gcc -c x.c -o x.o && echo done")
        .env(env::SOCKET, dir.join("nobody-listens.sock")));
    assert_ok(&out, "build with a dead socket");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "done\n");
    assert!(out.stderr.is_empty());
    assert_eq!(emcc.calls().len(), 1);
}

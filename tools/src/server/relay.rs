//! The relay of the rendezvous server: a relay half waits in the registry for its partner, the
//! second half splices the two within the relay limits ([`RelayLimits`]), and a peer whose
//! relayed link died asks here why (`circuit`).

use super::*;

/// A relay half: waits in the registry for its partner; the second half splices the two, within
/// the relay limits ([`RelayLimits`]).
pub(super) async fn relay(
    mut stream: BoxIo,
    addr: SocketAddr,
    msg: ClientMsg,
    sh: &Shared,
) -> Result<(), String> {
    let ClientMsg::Relay {
        ref job,
        rank,
        ref pair,
        ..
    } = msg
    else {
        unreachable!("called with a relay message")
    };
    if !protocol::valid_name(pair) {
        return Err(refuse_now(&mut stream, "invalid", "invalid pair name".into()).await);
    }
    let secret = match authenticate(sh, &msg, job, None) {
        Ok(s) => s,
        Err(why) => return Err(refuse_now(&mut stream, "auth", why).await),
    };
    let key: Key = (secret, job.clone(), pair.clone());
    // Decided under the lock, acted on after it (no lock across an await).
    let found = {
        let mut reg = sh.registry.lock();
        let idle = sh.cfg.idle_timeout;
        reg.relays.retain(|_, w| w.since.elapsed() < idle);
        match reg.relays.remove(&key) {
            Some(w) if w.rank != rank => Ok(w),
            // None, or a stale half of the same rank (its client gave up and retried): wait here.
            _ if reg.relays.len() >= sh.cfg.max_waiting_relays => Err(true),
            _ => Err(false),
        }
    };
    let mut other = match found {
        Ok(w) => w,
        Err(true) => {
            return Err(refuse_now(&mut stream, "limit", "too many waiting relays".into()).await)
        }
        Err(false) => {
            sh.registry.lock().relays.insert(
                key,
                RelayWaiter {
                    rank,
                    addr,
                    stream,
                    since: Instant::now(),
                },
            );
            return Ok(());
        }
    };
    let job_key: JobKey = (secret, job.clone());
    let circuit = match open_circuit(sh, &job_key, [other.addr.ip(), addr.ip()]) {
        Ok(c) => c,
        Err((code, why)) => {
            sh.stats.relay_refusals.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("rendezvous: relay job={job} pair={pair} refused: {why}");
            refuse_now(&mut other.stream, code, why.clone()).await;
            return Err(refuse_now(&mut stream, code, why).await);
        }
    };
    let ready = |peer_rank| {
        protocol::encode(&ServerMsg::RelayReady {
            pair: pair.clone(),
            peer_rank,
        })
    };
    if other.stream.write_all(&ready(rank)).await.is_err()
        || stream.write_all(&ready(other.rank)).await.is_err()
    {
        return Err("relay partner vanished".into());
    }
    sh.stats.relays.fetch_add(1, Ordering::Relaxed);
    tracing::info!(
        "rendezvous: relaying job={job} pair={pair}: rank {} <-> rank {rank}",
        other.rank
    );
    let limits = sh.cfg.relay;
    let ended = splice(other.stream, stream, limits).await;
    drop(circuit);
    if let Some((code, message, refused)) = ended {
        sh.stats.relay_refusals.fetch_add(1, Ordering::Relaxed);
        sh.stats.bytes_refused.fetch_add(refused, Ordering::Relaxed);
        tracing::warn!(
            "rendezvous: relay job={job} pair={pair} cut ({refused} bytes refused): {message}"
        );
        let mut reg = sh.registry.lock();
        if reg.ended.len() >= ENDED_MAX {
            reg.ended.retain(|_, e| e.at.elapsed() < ENDED_KEEP);
        }
        if reg.ended.len() < ENDED_MAX {
            let at = Instant::now();
            reg.ended.insert(key, Ended { code, message, at });
        }
    } else {
        tracing::debug!("rendezvous: relay job={job} pair={pair} ended");
    }
    Ok(())
}

/// An open circuit, counted against its job and the IP addresses of its two ends until dropped.
struct Circuit<'a> {
    sh: &'a Shared,
    job: JobKey,
    ips: [IpAddr; 2],
}

impl Drop for Circuit<'_> {
    fn drop(&mut self) {
        let mut reg = self.sh.registry.lock();
        decrement(&mut reg.circuits_per_job, &self.job);
        for ip in &self.ips {
            decrement(&mut reg.circuits_per_ip, ip);
        }
    }
}

/// Counts a new circuit of `job` between `ips`, or refuses it at a limit: (code, message).
fn open_circuit<'a>(
    sh: &'a Shared,
    job: &JobKey,
    ips: [IpAddr; 2],
) -> Result<Circuit<'a>, (&'static str, String)> {
    let limits = sh.cfg.relay;
    let mut reg = sh.registry.lock();
    let open = reg.circuits_per_job.get(job).copied().unwrap_or(0);
    if let Some(max) = limits.circuits_per_job.filter(|&m| open >= m) {
        return Err((
            codes::JOB_CIRCUITS,
            format!(
                "job {} already has {open} relayed circuits open, the server's limit per job is \
                 {max} (fmi-rendezvous --relay-circuits-per-job)",
                job.1
            ),
        ));
    }
    let mut want: HashMap<IpAddr, usize> = HashMap::new();
    for ip in ips {
        *want.entry(ip).or_insert(0) += 1;
    }
    for (ip, n) in &want {
        let held = reg.circuits_per_ip.get(ip).copied().unwrap_or(0);
        if let Some(max) = limits.circuits_per_ip.filter(|&m| held + n > m) {
            return Err((
                codes::IP_CIRCUITS,
                format!(
                    "address {ip} already holds {held} relayed circuit ends, the server's limit \
                     per IP address is {max} (fmi-rendezvous --relay-circuits-per-ip)"
                ),
            ));
        }
    }
    *reg.circuits_per_job.entry(job.clone()).or_insert(0) += 1;
    for ip in ips {
        *reg.circuits_per_ip.entry(ip).or_insert(0) += 1;
    }
    Ok(Circuit {
        sh,
        job: job.clone(),
        ips,
    })
}

/// Forwards bytes both ways until both sides closed, or a limit cuts the circuit: then
/// Some((code, message, bytes not forwarded)).
async fn splice(a: BoxIo, b: BoxIo, limits: RelayLimits) -> Option<(&'static str, String, u64)> {
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let cap = limits.bytes_per_circuit.unwrap_or(u64::MAX);
    let (mut x, mut y) = (Box::pin(pump(ar, bw, cap)), Box::pin(pump(br, aw, cap)));
    // One side closing leaves the other direction open until it closes too; a limit cuts both
    // (dropping the halves closes both connections).
    let both = async {
        tokio::select! {
            r = &mut x => if r.is_some() { r } else { (&mut y).await },
            r = &mut y => if r.is_some() { r } else { (&mut x).await },
        }
    };
    let bytes_cut = |refused: u64| {
        (
            codes::CIRCUIT_BYTES,
            format!(
                "the circuit reached the server's limit of {cap} bytes in one direction and was \
                 cut (fmi-rendezvous --relay-bytes-per-circuit)"
            ),
            refused,
        )
    };
    match limits.circuit_duration {
        Some(d) => match tokio::time::timeout(d, both).await {
            Ok(r) => r.map(bytes_cut),
            Err(_) => Some((
                codes::CIRCUIT_DURATION,
                format!(
                    "the circuit reached the server's limit of {:.1} s and was cut \
                     (fmi-rendezvous --relay-circuit-secs)",
                    d.as_secs_f64()
                ),
                0,
            )),
        },
        None => both.await.map(bytes_cut),
    }
}

/// Copies `rd` to `wr` until EOF (then shuts `wr` down) or an error; stops before the byte
/// `cap + 1`: then Some(bytes read but not forwarded).
async fn pump(
    mut rd: impl AsyncRead + Unpin,
    mut wr: impl AsyncWrite + Unpin,
    cap: u64,
) -> Option<u64> {
    let mut buf = vec![0u8; 64 << 10];
    let mut moved = 0u64;
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let room = cap - moved;
        let take = (n as u64).min(room) as usize;
        // Flushed at once: a TLS end holds written bytes in its session until flushed.
        if take > 0 && (wr.write_all(&buf[..take]).await.is_err() || wr.flush().await.is_err()) {
            break;
        }
        moved += take as u64;
        if take < n {
            let _ = wr.shutdown().await;
            return Some((n - take) as u64);
        }
    }
    let _ = wr.shutdown().await;
    None
}

/// Answers a `circuit` request: why the circuit of the pair was cut, if a limit cut it.
pub(super) async fn circuit_status(
    mut stream: BoxIo,
    msg: ClientMsg,
    sh: &Shared,
) -> Result<(), String> {
    let ClientMsg::Circuit {
        ref job, ref pair, ..
    } = msg
    else {
        unreachable!("called with a circuit message")
    };
    if !protocol::valid_name(pair) {
        return Err(refuse_now(&mut stream, "invalid", "invalid pair name".into()).await);
    }
    let secret = match authenticate(sh, &msg, job, None) {
        Ok(s) => s,
        Err(why) => return Err(refuse_now(&mut stream, "auth", why).await),
    };
    let key: Key = (secret, job.clone(), pair.clone());
    let answer = {
        let reg = sh.registry.lock();
        match reg.ended.get(&key).filter(|e| e.at.elapsed() < ENDED_KEEP) {
            Some(e) => ServerMsg::CircuitEnded {
                pair: pair.clone(),
                code: Some(e.code.to_string()),
                message: Some(e.message.clone()),
            },
            None => ServerMsg::CircuitEnded {
                pair: pair.clone(),
                code: None,
                message: None,
            },
        }
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(&protocol::encode(&answer)),
    )
    .await;
    Ok(())
}

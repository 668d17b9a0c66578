// WANDA web UI entry point: theme first (no bright flash), then the live connection and the
// panels. Each panel loads its state over HTTP and keeps it current from Socket.IO events.

import * as live from "./live.js";
import * as theme from "./theme.js";
import * as camera from "./camera.js";
import * as mount from "./mount.js";
import * as session from "./session.js";
import * as gallery from "./gallery.js";
import * as network from "./network.js";
import * as ipfs from "./ipfs.js";
import * as auth from "./auth.js";

theme.init();
auth.init();
live.start();
camera.init();
mount.init();
session.init();
gallery.init();
network.init();
ipfs.init();
window.wanda = { live, auth };
document.documentElement.dataset.ready = "true";

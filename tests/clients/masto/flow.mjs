// masto.js against a live microblog: what tests/test_mastodon_masto.py asks of it, as an app would do it.
// Input (environment): MASTO_URL, ALICE_TOKEN, BOB_TOKEN, PNG_BASE64 (a small picture).
// Output: one JSON object on stdout with what the server answered; the Python test checks it.
import { createRestAPIClient } from "masto";

const url = process.env.MASTO_URL;
const alice = createRestAPIClient({ url, accessToken: process.env.ALICE_TOKEN, mediaTimeout: 30000 });
const bob = createRestAPIClient({ url, accessToken: process.env.BOB_TOKEN });
const out = {};

out.me = await alice.v1.accounts.verifyCredentials();
out.instance = await alice.v2.instance.fetch();

// Five posts, then the home timeline two at a time, following the Link headers to the end.
out.posted = [];
for (let n = 0; n < 5; n++) {
  const status = await alice.v1.statuses.create({ status: `masto.js post ${n} #mastojs`, visibility: "public" });
  out.posted.push(status.id);
}
out.pages = [];
for await (const page of alice.v1.timelines.home.list({ limit: 2 })) {
  if (page.length === 0) break;
  out.pages.push(page.map((status) => status.id));
}

const first = out.posted[0];
out.reply = await bob.v1.statuses.create({ status: "@alice from masto.js", inReplyToId: first });
out.favourited = await bob.v1.statuses.$select(first).favourite();
out.context = await alice.v1.statuses.$select(first).context.fetch();
out.tagged = (await alice.v1.timelines.tag.$select("mastojs").list({ limit: 40 })).map((s) => s.id);
out.notifications = await alice.v1.notifications.list({ types: ["favourite", "mention"] });
out.search = await alice.v2.search.list({ q: "bob", type: "accounts" });

// A picture: masto.js uploads to /api/v2/media and polls GET /api/v1/media/:id until it has a url.
const picture = new Blob([Buffer.from(process.env.PNG_BASE64, "base64")], { type: "image/png" });
out.media = await alice.v2.media.create({ file: picture, description: "A square from masto.js" });
out.withMedia = await alice.v1.statuses.create({ status: "A picture from masto.js", mediaIds: [out.media.id] });

out.deleted = await alice.v1.statuses.$select(out.posted[4]).remove();
try {
  await alice.v1.statuses.$select(out.posted[4]).fetch();
  out.afterDelete = "found";
} catch (error) {
  out.afterDelete = error.statusCode;
}

process.stdout.write(JSON.stringify(out));

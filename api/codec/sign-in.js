// Signs this browser in to the codec server: the key goes in a header once; the server answers with an
// HttpOnly cookie for /codec only, which no script can read.
const status = document.getElementById("status");

document.getElementById("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = document.getElementById("key");
  const answer = await fetch("/codec/session", {method: "POST", headers: {Authorization: `Bearer ${key.value}`}});
  key.value = "";
  if (answer.ok) {
    status.textContent = "Signed in for 8 hours. The Temporal UI can now show transfers decrypted.";
  } else {
    const body = await answer.json().catch(() => ({}));
    status.textContent = `Not signed in: ${body.error?.message ?? answer.statusText}`;
  }
});

document.getElementById("sign-out").addEventListener("click", async () => {
  await fetch("/codec/session", {method: "DELETE"});
  status.textContent = "Signed out.";
});

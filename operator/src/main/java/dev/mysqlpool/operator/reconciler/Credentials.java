package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.Admission;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that the pool's Secret holds a password for every user. Names only what is missing: the
 * Secret's other keys are none of the condition's business (they may be other applications').
 */
final class Credentials {
  private Credentials() {}

  /** The CredentialsFound check for {@code spec}'s users against {@code secret} (null: absent). */
  static Admission.Check check(MySQLPoolSpec spec, Secret secret, String namespace) {
    String name = spec.credentials.secretName;
    if (secret == null) {
      return new Admission.Check(
          Admission.CREDENTIALS_FOUND,
          false,
          "SecretNotFound",
          "Secret \""
              + name
              + "\" not found in namespace "
              + namespace
              + "; create it with one key per user, e.g. kubectl create secret generic "
              + name
              + " --from-literal="
              + spec.credentials.users.get(0).name
              + "=...",
          true);
    }
    List<String> absent = new ArrayList<>();
    for (MySQLPoolSpec.User u : spec.credentials.users) {
      boolean inData = secret.getData() != null && secret.getData().containsKey(u.name);
      boolean inStringData =
          secret.getStringData() != null && secret.getStringData().containsKey(u.name);
      if (!inData && !inStringData) {
        absent.add(u.name);
      }
    }
    if (absent.isEmpty()) {
      return new Admission.Check(
          Admission.CREDENTIALS_FOUND,
          true,
          "Found",
          "Secret \"" + name + "\" holds every user's password",
          false);
    }
    return new Admission.Check(
        Admission.CREDENTIALS_FOUND,
        false,
        "KeyMissing",
        "Secret \""
            + name
            + "\" has no key for user"
            + (absent.size() > 1 ? "s " : " ")
            + String.join(", ", absent)
            + "; add "
            + (absent.size() > 1 ? "them" : "it")
            + " with the password as the value, e.g. kubectl patch secret "
            + name
            + " --type merge -p '{\"stringData\":{\""
            + absent.get(0)
            + "\":\"...\"}}'",
        true);
  }
}

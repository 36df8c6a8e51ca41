package dev.mysqlpool.proxy.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Checks a backend's certificate for {@code verify-ca} and {@code verify-identity} with the JDK's
 * own PKIX trust manager, in two steps so that a failure says which one failed: first the chain
 * (against the CA file), then, for verify-identity, the host name (the JDK's HTTPS rules: SAN DNS
 * names and IP addresses). The messages name the certificate, the CA source and the host; the JDK's
 * own text is kept at the end.
 *
 * <p>Client side only: the proxy never asks backends' clients for certificates.
 */
final class VerifyingTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager pkix;
  private final String trustSource;
  private final String host;
  private final boolean checkIdentity;

  VerifyingTrustManager(
      X509ExtendedTrustManager pkix, String trustSource, String host, boolean checkIdentity) {
    this.pkix = pkix;
    this.trustSource = trustSource;
    this.host = host;
    this.checkIdentity = checkIdentity;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkChain(chain, authType);
    if (checkIdentity) {
      try {
        // The engine carries the peer host and the HTTPS endpoint identification ClientTls set.
        pkix.checkServerTrusted(chain, authType, engine);
      } catch (CertificateException e) {
        throw new CertificateException(
            "certificate "
                + describe(chain[0])
                + " does not name host '"
                + host
                + "' (tls.mode verify-identity): "
                + e.getMessage()
                + "; issue it for that name, or connect by a name it carries");
      }
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkChain(chain, authType);
    if (checkIdentity) {
      pkix.checkServerTrusted(chain, authType, socket);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    checkChain(chain, authType);
  }

  private void checkChain(X509Certificate[] chain, String authType) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the server sent no certificate");
    }
    try {
      pkix.checkServerTrusted(chain, authType);
    } catch (CertificateException e) {
      // No cause chained: the login reports the deepest cause's message, which is this one.
      throw new CertificateException(
          "certificate "
              + describe(chain[0])
              + " is not trusted by "
              + trustSource
              + ": "
              + e.getMessage()
              + "; give the CA that issued it (the whole bundle, PEM) as tls.caFile");
    }
  }

  static String describe(X509Certificate cert) {
    return "'"
        + cert.getSubjectX500Principal().getName()
        + "' (issued by '"
        + cert.getIssuerX500Principal().getName()
        + "', names "
        + subjectAltNames(cert)
        + ")";
  }

  private static List<String> subjectAltNames(X509Certificate cert) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          names.add(String.valueOf(san.get(1)));
        }
      }
    } catch (CertificateParsingException e) {
      names.add("unreadable: " + e.getMessage());
    }
    return names;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("the proxy's backend connections do not accept clients");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("the proxy's backend connections do not accept clients");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("the proxy's backend connections do not accept clients");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }
}

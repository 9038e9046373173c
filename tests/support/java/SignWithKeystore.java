import java.io.FileInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Base64;

/** Loads a keystore as MyTimetable does and signs stdin-free test data with the key under the alias. */
public class SignWithKeystore {
    public static void main(String[] args) throws Exception {
        String type = args[0], path = args[1], alias = args[2], data = args[4];
        char[] password = args[3].toCharArray();
        KeyStore store = KeyStore.getInstance(type);
        try (FileInputStream in = new FileInputStream(path)) {
            store.load(in, password);
        }
        PrivateKey key = (PrivateKey) store.getKey(alias, password);
        if (key == null) {
            System.err.println("no key under alias " + alias);
            System.exit(3);
        }
        X509Certificate certificate = (X509Certificate) store.getCertificate(alias);
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(data.getBytes(StandardCharsets.UTF_8));
        System.out.println(Base64.getEncoder().encodeToString(signer.sign()));
        System.out.println(certificate.getSubjectX500Principal().getName());
    }
}

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyStore;
import java.util.Base64;

/**
 * Opens many keystores in one JVM, as MyTimetable (and keytool) do: KeyStore.load with the
 * password, then getKey under the alias. Reads lines "TYPE<TAB>PATH<TAB>ALIAS_B64<TAB>PASSWORD_B64"
 * (base64 of UTF-8) from stdin; prints one line per keystore: "OK" or "FAIL <exception chain>".
 */
public class OpenKeystores {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.split("\t", -1);
            String alias = new String(Base64.getDecoder().decode(f[2]), StandardCharsets.UTF_8);
            char[] password = new String(Base64.getDecoder().decode(f[3]), StandardCharsets.UTF_8).toCharArray();
            try (InputStream file = new FileInputStream(f[1])) {
                KeyStore store = KeyStore.getInstance(f[0]);
                store.load(file, password);
                Key key = store.getKey(alias, password);
                System.out.println(key != null && store.getCertificate(alias) != null ? "OK" : "FAIL no key entry " + alias);
            } catch (Throwable t) {
                StringBuilder chain = new StringBuilder();
                for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                    chain.append(c.getClass().getName()).append(": ").append(c.getMessage()).append(" <- ");
                }
                System.out.println("FAIL " + chain.toString().replace("\n", " "));
            }
        }
    }
}

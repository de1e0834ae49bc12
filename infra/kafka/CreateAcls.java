// Applies infra/kafka/acls.tsv to a running broker with the Admin API, in one JVM.
// Run as a single-file program: java -cp '<kafka libs>/*' CreateAcls.java <bootstrap> <admin-password> <acls.tsv>
import java.nio.file.*;
import java.util.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.acl.*;
import org.apache.kafka.common.resource.*;

public class CreateAcls {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("security.protocol", "SASL_PLAINTEXT");
        p.put("sasl.mechanism", "SCRAM-SHA-256");
        p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"" + args[1] + "\";");
        List<AclBinding> bindings = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get(args[2]))) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t");
            ResourceType type = switch (f[2]) {
                case "group" -> ResourceType.GROUP;
                case "transactional-id" -> ResourceType.TRANSACTIONAL_ID;
                default -> ResourceType.TOPIC;
            };
            PatternType pattern = f[4].equals("prefixed") ? PatternType.PREFIXED : PatternType.LITERAL;
            // The table names operations as kafka-acls.sh does (DescribeConfigs); the enum is DESCRIBE_CONFIGS.
            AclOperation op = AclOperation.fromString(f[1].replaceAll("([a-z])([A-Z])", "$1_$2"));
            if (op == AclOperation.UNKNOWN) throw new IllegalArgumentException("unknown ACL operation " + f[1]);
            bindings.add(new AclBinding(new ResourcePattern(type, f[3], pattern),
                    new AccessControlEntry("User:" + f[0], "*", op, AclPermissionType.ALLOW)));
            if (type == ResourceType.TOPIC && op == AclOperation.WRITE) {  // producers look topics up first
                bindings.add(new AclBinding(new ResourcePattern(type, f[3], pattern),
                        new AccessControlEntry("User:" + f[0], "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW)));
            }
        }
        try (Admin admin = Admin.create(p)) {
            admin.createAcls(bindings).all().get();
        }
        System.out.println("applied " + bindings.size() + " ACL bindings");
    }
}
